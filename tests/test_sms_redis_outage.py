"""Redis stops while phones text 1199: every deliver_sm gets a temporary error (the SMSC
sends it again), the log gets a counted line a second instead of a traceback per SMS,
/metrics counts them, and once Redis is back the SMSC's resends are answered.

A real `serve` process (its SMS channel bound to the simulator process) on a
redis-server of the test's own, stopped and started again by the test.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from core.privacy import mask_phone
from smpp import codec
from tests.keys import AllKeys
from tests.redis_server import free_port, needs_redis_server, own_redis
from tests.test_metrics import scrape, value
from tests.test_serve_workers import Serve, serving
from tests.test_smpp_support import Sim, deliver_answers, sim_fixture  # noqa: F401
from tests.ussd_harness import config_on_loaded_redis

pytestmark = needs_redis_server

PHONES = [f"628139000{i:04d}" for i in range(24)]
SUMMARY = re.compile(r"(\d+) SMS could not be handled: Redis unavailable")


def mo(sequence: int, phone: str, text: bytes) -> bytes:
    return codec.build_submit_sm(
        sequence, source=phone, source_ton=1, source_npi=1, destination="1199",
        short_message=text, command_id=codec.DELIVER_SM,
    )  # fmt: skip


def burst() -> str:
    """One write of a deliver_sm from each phone (sequence numbers the simulator's own
    counter never reaches in this test)."""
    return b"".join(mo(5000 + i, phone, b"VAKSIN") for i, phone in enumerate(PHONES)).hex()


def sms_env(sim: Sim, redis_url: str, prefix: str) -> dict[str, str]:
    return {
        "USSD_REDIS_URL": redis_url,
        "USSD_REDIS_KEY_PREFIX": prefix,
        "USSD_SMPP_HOST": "127.0.0.1",
        "USSD_SMPP_PORT": str(sim.smpp_port),
        "USSD_SMPP_PASSWORD": "devpass",
        "USSD_SMPP_RECONNECT_MIN": "0.05",
        "USSD_SMPP_RECONNECT_MAX": "0.3",
    }


async def until(check, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.05)):
        if result := await check():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def replies(sim: Sim) -> dict[str, list[str]]:
    return {p: (await sim.call(f"/messages?to={p}"))["messages"] for p in PHONES}


async def test_sms_while_redis_is_down_are_deferred_counted_and_answered_after(
    sim: Sim, tmp_path: Path, key_prefix: str
) -> None:
    redis_server = own_redis(tmp_path / "redis", appendonly=True)
    try:
        await config_on_loaded_redis(redis_server.url, key_prefix)
        env = sms_env(sim, redis_server.url, key_prefix)
        port = free_port()
        with serving(tmp_path, port, "--workers", "1", env=env) as server:
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                await until(lambda: _bound(sim))
                await sim.call("/config", {"receipts": False})  # MO only: exact counts
                await sim.call("/inject", {"from": "6281390009999", "text": "VAKSIN"})
                assert (await deliver_answers(sim, 1)) == {"0": 1}

                redis_server.stop()
                await sim.call("/raw", {"hex": burst()})
                answered = await deliver_answers(sim, 1 + len(PHONES))
                # a temporary error: the SMSC keeps each SMS and sends it again later
                assert answered == {"0": 1, str(codec.ESME_RX_T_APPN): len(PHONES)}
                metrics = await scrape(http, base)
                assert value(metrics, "vaksin_sms_deferred_total", kind="mo") == len(PHONES)

                redis_server.start()  # append-only: the data is back
                await until(lambda: _healthy(http, base))
                await sim.call("/raw", {"hex": burst()})  # the SMSC's resends, as they were
                answered = await deliver_answers(sim, 1 + 2 * len(PHONES))
                assert answered["0"] == 1 + len(PHONES)
                got = await until(lambda: _all_answered(sim))
                received = await _mo_count(redis_server.url, key_prefix)
            log = await _stopped_log(server)
    finally:
        redis_server.stop()
    assert all(len(texts) == 1 and "Balas YA atau TIDAK" in texts[0] for texts in got.values())
    assert received == 1 + len(PHONES)  # each SMS taken once, when Redis could take it
    assert "Traceback" not in log, log
    assert not [p for p in PHONES if p in log or mask_phone(p) in log], log  # not even masked
    counts = [int(n) for n in SUMMARY.findall(log)]
    assert sum(counts) == len(PHONES), log
    assert len(counts) < len(PHONES), log  # counted together, not a line per SMS


async def _bound(sim: Sim) -> bool:
    return bool((await sim.call("/stats"))["binds"])


async def _healthy(http: aiohttp.ClientSession, base: str) -> bool:
    async with http.get(f"{base}/healthz") as resp:
        return resp.status == 200


async def _all_answered(sim: Sim) -> dict[str, list[str]] | None:
    got = await replies(sim)
    return got if all(got.values()) else None


async def _mo_count(url: str, prefix: str) -> int:
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        return int(await client.hget(AllKeys(prefix).sms_stats(), "mo") or 0)
    finally:
        await client.aclose()


async def _stopped_log(server: Serve) -> str:
    server.process.terminate()
    await asyncio.to_thread(server.wait, 30)
    return server.stderr()
