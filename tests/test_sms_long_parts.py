"""A long SMS whose part the SMSC refuses for a moment reaches the handset once.

The simulator process refuses part 2 of each number's first long message with
ESME_RTHROTTLED (``refuse_part``). Only that part is sent again, with the message's
concatenation reference: the handset gets every part once, all under one reference,
and shows one message. (Sent again whole, with a new reference, it got part 1 twice,
one of them an orphan it keeps waiting to complete.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from core.outbox import OutboundSms
from smpp import campaigns, codec
from smpp.receipts import normalise_id
from smpp.service import SmsService
from tests.keys import AllKeys
from tests.test_smpp_support import (  # noqa: F401  (fixtures)
    Sim,
    seed_workers,
    service_fixture,
    sim_fixture,
    wait_progress,
)

LONG = "Halo {first_name}, " + "vaksin aman dan halal. " * 9 + "Balas {keyword}."


def assert_arrived_once(inbox: dict[str, Any], text: str, parts: int) -> None:
    """What the handset notices: each part once, one reference, one message shown."""
    refs = [ref for _, ref in inbox["parts"]]
    assert len({ref[0] for ref in refs}) == 1, refs
    assert sorted((total, seq) for _, total, seq in refs) == [(parts, i + 1) for i in range(parts)]
    assert inbox["messages"] == [text]


async def message_ids(redis: aioredis.Redis, keys: AllKeys, svc: SmsService, n: int) -> list[str]:
    """What Redis maps the simulator's message ids 1..n to (it numbers accepted parts)."""
    base = svc.smpp.message_id_base
    ids = [keys.sms_message_id(normalise_id(str(i), base)) for i in range(1, n + 1)]
    return [await redis.get(key) or "" for key in ids]


async def test_outbox_resends_only_the_refused_part_with_the_same_reference(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys
) -> None:
    await sim.call("/config", {"refuse_part": 2})
    phone, text = "6281299990007", "Tiket vaksin Anda: K7Q2MX9Z. " + "Tunjukkan QR di faskes. " * 8
    assert await service.inbound.outbox.enqueue(OutboundSms(phone, text, "ticket", "t:long"))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while await redis.hget(keys.sms_stats(), "sent_ticket") != "1":
        assert loop.time() < deadline, "the ticket SMS was never acknowledged"
        await asyncio.sleep(0.05)
    assert_arrived_once(await sim.call(f"/messages?to={phone}"), text, 2)
    assert (await sim.call("/stats"))["throttled"] == 1
    assert (await redis.xpending(keys.sms_outbox(), "sms-channel"))["pending"] == 0
    # Both parts' message ids (part 1 from the first try, part 2 from the second) are kept.
    assert [v.split("\t")[:2] for v in await message_ids(redis, keys, service, 2)] == [
        ["o", "t:long"],
        ["o", "t:long"],
    ]


async def test_blast_resends_only_the_refused_part_with_the_same_reference(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys
) -> None:
    await sim.call("/config", {"refuse_part": 2})
    workers = await seed_workers(redis, keys, 5, start=60)
    await campaigns.create(service.store, service.blast, "long", LONG, {}, False)
    await campaigns.transition(service.store, "long", "start")
    p = await wait_progress(service, "long", lambda p: p["delivered"] == 5)
    assert (p["submitted"], p["failed"], p["queued"], p["state"]) == (5, 0, 0, "done")
    for _, phone in workers:
        text = LONG.format(first_name="Siti", keyword="VAKSIN")
        assert_arrived_once(await sim.call(f"/messages?to={phone}"), text, 2)
    assert (await sim.call("/stats"))["throttled"] == 5
    # Every accepted part's message id leads to its recipient (a receipt for any part).
    targets = [v.split("\t")[2] for v in await message_ids(redis, keys, service, 10)]
    assert sorted(targets) == sorted([nik for nik, _ in workers] * 2)


async def test_a_retry_waiting_at_shutdown_stops_and_the_next_start_sends_it(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> None:
    """Retries still waiting when the channel stopped were left running: "Task was
    destroyed but it is pending!" at exit. Now they stop; the entry stays pending."""
    from tests.conftest import make_test_config
    from tests.test_smpp_support import smpp_overrides
    from ussd_server.context import build_context

    config = make_test_config(key_prefix, **smpp_overrides(sim))
    await sim.call("/config", {"throttle_every": 1})  # every submit: RTHROTTLED
    for attempt in range(2):
        ctx = build_context(config)
        svc = SmsService(config, ctx.redis, ctx.outbox, ctx.registry, ctx.engine)
        await svc.start()
        assert await svc.pool.wait_ready(5)
        if attempt == 0:
            sms = OutboundSms("6281299990008", "Tiket: K7Q2MX9Y", "ticket", "t:stop")
            assert await svc.inbound.outbox.enqueue(sms)
            while not (await sim.call("/stats"))["throttled"]:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # the retry is waiting
        else:
            await sim.call("/config", {"throttle_every": 0})
            while await redis.hget(keys.sms_stats(), "sent_ticket") != "1":
                await asyncio.sleep(0.05)
        await svc.stop()
        await ctx.aclose()
        await asyncio.sleep(1.2)  # past the retry's pause (1 s)
        left = [t for t in asyncio.all_tasks() if "send_parts" in repr(t.get_coro())]
        assert left == []
    assert (await sim.call("/messages?to=6281299990008"))["messages"] == ["Tiket: K7Q2MX9Y"]


@pytest.mark.parametrize(
    ("name", "text", "parts"), [("short", "Halo {first_name}.", 1), ("long", LONG, 2)]
)
async def test_a_blast_rides_out_a_passing_smsc_fault(
    sim: Sim,
    service: SmsService,
    redis: aioredis.Redis,
    keys: AllKeys,
    name: str,
    text: str,
    parts: int,
) -> None:
    """For a second and a half after the blast's first submits the SMSC answers every SMS
    RSYSERR (a temporary error), then recovers: every worker still gets the message, each
    part once."""
    await sim.call("/config", {"sms_error": codec.ESME_RSYSERR})
    workers = await seed_workers(redis, keys, 3, start=70)
    await campaigns.create(service.store, service.blast, name, text, {}, False)
    await campaigns.transition(service.store, name, "start")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while (await sim.call("/stats"))["submits"] < 3 * parts:
        assert loop.time() < deadline, "the blast never started"
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.5)
    await sim.call("/config", {"sms_error": 0})
    p = await wait_progress(service, name, lambda p: p["delivered"] + p["failed"] == 3)
    assert (p["delivered"], p["failed"]) == (3, 0), p
    for _, phone in workers:
        inbox = await sim.call(f"/messages?to={phone}")
        shown = text.format(first_name="Siti", keyword="VAKSIN")
        if parts > 1:
            assert_arrived_once(inbox, shown, parts)
        assert inbox["messages"] == [shown]
