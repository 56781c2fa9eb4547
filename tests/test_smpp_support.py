"""Shared helpers for the SMS tests: the simulator as a real separate process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from core.config import Config
from devtools.smsc_process import SimProcess
from registration import redis_import
from smpp import campaigns
from smpp.service import SmsService
from tests.conftest import make_test_config, test_redis_url
from tests.keys import AllKeys
from ussd_server.context import AppContext, build_context

ROOT = Path(__file__).resolve().parent.parent


class Sim(SimProcess):
    """The simulator process, with its control port spoken to asynchronously."""

    @property
    def url(self) -> str:
        return self.control_url

    async def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with aiohttp.ClientSession() as http:
            if body is None:
                async with http.get(self.url + path) as resp:
                    return await resp.json()
            async with http.post(self.url + path, json=body) as resp:
                return await resp.json()


def start_sim(*args: str) -> Sim:
    return Sim.start(*args)


def stop_sim(sim: Sim) -> None:
    sim.stop()


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator[Sim]:
    s = start_sim()
    try:
        yield s
    finally:
        stop_sim(s)


def smpp_overrides(sim: Sim, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "smpp.enabled": True,
        "smpp.host": "127.0.0.1",
        "smpp.port": sim.smpp_port,
        "smpp.reconnect_min": 0.05,
        "smpp.reconnect_max": 0.3,
        "smpp.throttle_pause": 0.05,
        "smpp.response_timeout": 3.0,
    }
    base.update(extra)
    return base


@pytest.fixture(name="service")
async def service_fixture(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str, request: pytest.FixtureRequest
) -> AsyncIterator[SmsService]:
    """The SMS channel (blasts and outbox) bound to the simulator, on this test's prefix."""
    extra = getattr(request, "param", {})  # config overrides from indirect parametrize
    config = make_test_config(key_prefix, **smpp_overrides(sim, **extra))
    async with sms_channel(config) as (svc, _):
        yield svc


@contextlib.asynccontextmanager
async def sms_channel(config: Config) -> AsyncIterator[tuple[SmsService, AppContext]]:
    """The SMS channel of ``config`` started and bound (then stopped and closed)."""
    ctx = build_context(config)
    svc = SmsService(config, ctx.redis, ctx.outbox, ctx.registry, ctx.engine)
    await svc.start()
    assert await svc.pool.wait_ready(5)
    try:
        yield svc, ctx
    finally:
        await svc.stop()
        await ctx.aclose()


async def deliver_answers(sim: Sim, count: int) -> dict[str, int]:
    """The simulator's deliver_sm_resp counts by status, once ``count`` were answered."""
    for _ in range(400):
        stats = (await sim.call("/stats"))["deliver_resp"]
        if sum(stats.values()) >= count:
            return stats
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {stats} answered")


async def wait_progress(svc: SmsService, name: str, cond: Any, timeout: float = 30) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        p = await campaigns.progress(svc.store, name)
        if cond(p):
            return p
        assert loop.time() < deadline, f"campaign stuck: {p}"
        await asyncio.sleep(0.1)


async def seed_workers(
    redis: aioredis.Redis,
    keys: AllKeys,
    count: int,
    *,
    regency: str = "Bandung",
    profession: str = "bidan",
    facility: str = "F1",
    start: int = 0,
) -> list[tuple[str, str]]:
    """Listed health workers (nik, phone), loaded through the registry import."""
    facilities = ["facility_id,name,regency,address,daily_capacity"]
    facilities.append(f"{facility},Puskesmas {facility},{regency},Jl. Satu,100")
    report = await redis_import.import_facilities(redis, keys, facilities)
    assert report.rows_bad == 0, report.errors
    out, rows = [], ["nik,full_name,phone,profession,facility_id"]
    for i in range(start, start + count):
        nik, phone = f"3201014101{i:06d}", f"62812{i:07d}"
        rows.append(f"{nik},siti rahma {i},{phone},{profession},{facility}")
        out.append((nik, phone))
    report = await redis_import.import_health_workers(redis, keys, rows)
    assert report.rows_bad == 0, report.errors
    return out


def sms_process(
    sim: Sim, prefix: str, *argv: str, window: int, **env: str
) -> subprocess.Popen[bytes]:
    """`python -m ussd_server <argv>` (``blast run NAME``, ``sms-worker``) bound to the
    simulator; ``env``: more ``USSD_*`` settings (e.g. ``USSD_BLAST_LEASE_SECONDS="1.5"``)."""
    environ = dict(
        os.environ,
        USSD_REDIS_URL=test_redis_url(),
        USSD_REDIS_KEY_PREFIX=prefix,
        USSD_SMPP_PORT=str(sim.smpp_port),
        USSD_SMPP_WINDOW=str(window),
        USSD_SMPP_PASSWORD="devpass",
        USSD_TICKETS_SIGNING_KEY="test-signing-key",
        USSD_METRICS_MULTIPROC_DIR="",
        **env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "ussd_server", *argv],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def blast_process(
    sim: Sim, prefix: str, name: str, *args: str, window: int, **env: str
) -> subprocess.Popen[bytes]:
    """`python -m ussd_server blast run NAME [args]` bound to the simulator."""
    return sms_process(sim, prefix, "blast", "run", name, *args, window=window, **env)
