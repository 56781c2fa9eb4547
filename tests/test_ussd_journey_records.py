"""What whole *119# journeys leave in the Registry: a rescheduled ticket (the old one
cancelled, a second ticket SMS), and screening statistics by outcome."""

from __future__ import annotations

from registration.service import Registry
from tests.test_ussd_journey import CODE, outbox, register, server_fixture  # noqa: F401
from tests.ussd_harness import PHONE, AtPhone, last6


async def test_change_schedule_gives_new_ticket_and_cancels_old(server, redis, keys):
    base, http = server
    old = CODE.search(await register(AtPhone(http, base, PHONE, "rs-1"), last6(1))).group(1)
    phone = AtPhone(http, base, PHONE, "rs-2")
    await phone.dial()
    await phone.send("3")
    await phone.send(last6(1))
    assert "Pilih jadwal" in await phone.send("1")  # change time
    assert "Konfirmasi" in await phone.send("2")
    new = CODE.search(await phone.send("1")).group(1)
    assert new != old
    assert await redis.hget(keys.ticket(old), "state") == "cancelled"
    texts = [m["text"] for m in await outbox(redis, keys)]
    assert len(texts) == 2 and new in texts[1]


async def test_statistics_count_each_screen_yes_under_its_own_outcome(
    server, config, redis
) -> None:
    """One "yes" to screen 1 (a cough) and one to screen 2 (past COVID-19) used to show
    0 deferred and 2 not eligible in /api/stats (the Registry's statistics)."""
    base, http = server
    ends = []
    for serial, answers in ((1000, ["1"]), (1001, ["2", "1"])):
        phone = AtPhone(http, base, f"62813{serial - 1000:08d}", f"stats-{serial}")
        await phone.dial()
        await phone.send("1")
        await phone.send("1")
        await phone.send(last6(serial))
        await phone.send("1")
        for answer in answers:
            end = await phone.send(answer)
        ends.append(end)
    assert ends[0].startswith("Ditunda: Ada gejala") and ends[1].startswith("Belum dapat")
    registry = Registry.from_config(config, redis)
    totals = (await registry.stats())["totals"]
    await registry.aclose()
    assert (totals["screened"], totals["deferred"], totals["not_eligible"]) == (2, 1, 1)
