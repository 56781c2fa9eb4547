"""GET /metrics after a small blast through the real server (SMS channel inside, bound to
the simulator process): the SMS counts move by exactly what the SMSC saw."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_metrics import scrape, value
from tests.test_smpp_support import Sim, seed_workers, sim_fixture, smpp_overrides  # noqa: F401

TOKEN = {"Authorization": "Bearer test-operator-token"}
TOTAL = 60


@asynccontextmanager
async def sms_server(sim: Sim, key_prefix: str) -> AsyncIterator[str]:
    from ussd_server.app import create_app

    config = make_test_config(key_prefix, **smpp_overrides(sim))
    runner = web.AppRunner(create_app(config, sms=True), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def until(check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.1)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_a_small_blast_moves_the_sms_metrics_by_exactly_what_happened(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> None:
    await seed_workers(redis, keys, TOTAL)
    async with sms_server(sim, key_prefix) as base, aiohttp.ClientSession() as http:
        await until(lambda: _bound(sim))
        await sim.call("/config", {"throttle_every": 7, "drop_after": 25})
        sim_before, before = await sim.call("/stats"), await scrape(http, base)
        body = {"name": "m", "template": "Halo {first_name}, balas {keyword}."}
        async with http.post(f"{base}/api/campaigns", json=body, headers=TOKEN) as resp:
            assert resp.status == 201
        async with http.post(f"{base}/api/campaigns/m/start", headers=TOKEN) as resp:
            assert resp.status == 200

        async def settled() -> dict | None:
            async with http.get(f"{base}/api/campaigns/m", headers=TOKEN) as resp:
                progress = await resp.json()
            if progress["delivered"] < TOTAL:
                return None
            found = await scrape(http, base)  # answers are published each half second
            done = moved(before, found, "vaksin_smpp_submits_total", status="ROK") == TOTAL
            idle = value(found, "vaksin_smpp_window_in_use") == 0
            return found if done and idle else None

        after = await until(settled)
    sim_after = await sim.call("/stats")
    throttled = sim_after["throttled"] - sim_before["throttled"]
    drops = sim_after["drops"] - sim_before["drops"]
    assert throttled > 0 and drops > 0
    assert moved(before, after, "vaksin_smpp_submits_total", status="RTHROTTLED") == throttled
    assert moved(before, after, "vaksin_smpp_throttled_total") == throttled
    assert moved(before, after, "vaksin_smpp_reconnects_total") == drops
    assert moved(before, after, "vaksin_sms_receipts_total", state="delivered") == TOTAL
    assert moved(before, after, "vaksin_sms_receipts_total", state="failed") == 0
    assert moved(before, after, "vaksin_sms_receipt_seconds_count") == TOTAL
    for state, count in (("submitted", TOTAL), ("delivered", TOTAL), ("pending", 0)):
        assert value(after, "vaksin_blast_recipients", campaign="m", state=state) == count


async def _bound(sim: Sim) -> bool:
    return (await sim.call("/stats"))["binds"] == 1


async def test_notices_the_smsc_sends_are_counted_by_kind(sim: Sim, key_prefix: str) -> None:
    from tests.test_sms_notices import NOTICE, deliver_sm

    async with sms_server(sim, key_prefix) as base, aiohttp.ClientSession() as http:
        await until(lambda: _bound(sim))
        before = await scrape(http, base)
        for sequence, esm_class in ((901, 0x20), (902, 0x20), (903, 0x08)):
            await sim.call("/raw", {"hex": deliver_sm(sequence, esm_class, NOTICE).hex()})

        async def counted() -> dict | None:
            found = await scrape(http, base)
            return (
                found if moved(before, found, "vaksin_sms_notices_total", kind="sme_ack") else None
            )

        after = await until(counted)
    assert moved(before, after, "vaksin_sms_notices_total", kind="intermediate") == 2
    assert moved(before, after, "vaksin_sms_notices_total", kind="sme_ack") == 1
