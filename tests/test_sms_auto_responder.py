"""An auto-responder inside an open SMS conversation, over the real SMS path.

Its away-message used to get "Pilihan salah" and the screen back every time (6 of 6
answered, each renewing the 24 h session): an endless ping-pong with the phone.
"""

from __future__ import annotations

from tests.test_smpp_support import sim_fixture  # noqa: F401 (fixture)
from tests.test_sms_journey import Phone, phone  # noqa: F401 (fixture)

AWAY = "Maaf, saya sedang cuti. Pesan ini dibalas otomatis."


async def test_the_third_wrong_answer_in_a_row_ends_the_conversation(phone: Phone) -> None:  # noqa: F811
    [question] = await phone.send("VAKSIN")
    assert "Balas YA atau TIDAK" in question
    for _ in range(2):
        [again] = await phone.send(AWAY)
        assert again.startswith("Pilihan salah.") and "Balas YA atau TIDAK" in again
    [ended] = await phone.send(AWAY)
    assert "percakapan ini diakhiri" in ended and "Kirim VAKSIN untuk mulai lagi" in ended
    [helped] = await phone.send(AWAY)  # outside a conversation: the help, rate limited
    assert "kirim VAKSIN untuk daftar" in helped
    await phone.send(AWAY, replies=0)
    await phone.send(AWAY, replies=0)
    # Handled in order: the answer to VAKSIN comes after anything the two above got.
    [question] = await phone.send("VAKSIN")
    assert "Balas YA atau TIDAK" in question


async def test_a_right_answer_resets_the_count(phone: Phone) -> None:  # noqa: F811
    await phone.send("VAKSIN")
    for _ in range(2):
        [again] = await phone.send("halo")
        assert again.startswith("Pilihan salah.")
    [ask] = await phone.send("YA")
    assert "6 digit terakhir NIK" in ask
    for _ in range(2):
        [again] = await phone.send("halo")
        assert "Harus 6 angka" in again and "6 digit terakhir NIK" in again
    [ended] = await phone.send("halo")
    assert "percakapan ini diakhiri" in ended
