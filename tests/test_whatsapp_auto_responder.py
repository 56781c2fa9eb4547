"""An auto-responder inside an open WhatsApp conversation, end to end over real HTTP.

Its away-message used to get "Pilihan salah" and the buttons back every time, each
renewing the session: the help's rate limit covered only text outside a conversation.
"""

from __future__ import annotations

from tests.whatsapp_harness import (  # noqa: F401 (fixtures)
    WaPhone,
    body,
    phone_fixture,
    server_fixture,
    sim_fixture,
)

AWAY = "Maaf, saya sedang cuti. Pesan ini dibalas otomatis."


async def test_the_third_wrong_answer_in_a_row_ends_the_conversation(phone: WaPhone) -> None:
    [question] = await phone.type("VAKSIN")
    assert "tenaga kesehatan" in body(question)
    for _ in range(2):
        [again] = await phone.type(AWAY)
        assert "Pilihan salah." in body(again) and "tenaga kesehatan" in body(again)
    [ended] = await phone.type(AWAY)
    assert "percakapan ini diakhiri" in body(ended) and "VAKSIN" in body(ended)
    [helped] = await phone.type(AWAY)  # outside a conversation: the help, rate limited
    assert "kirim VAKSIN untuk daftar" in body(helped)
    await phone.type(AWAY, replies=0)
    await phone.type(AWAY, replies=0)
    assert await phone.settle() == []
    [question] = await phone.type("VAKSIN")  # a keyword starts again
    assert "tenaga kesehatan" in body(question)
