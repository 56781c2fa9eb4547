"""Bookings survive Redis losing its script cache (restart, failover): a private redis-server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from core.config import Config
from registration import redis_lua
from registration.models import BookingOutcome
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.redis_server import needs_redis_server, own_redis
from tests.test_registration_support import FakeClock, nik, registry_with, screened

pytestmark = needs_redis_server


def registry_script_shas() -> list[str]:
    return [script.sha for script in redis_lua.ALL_SCRIPTS]


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    server = own_redis(tmp_path)
    try:
        yield server.url
    finally:
        server.stop()


async def test_booking_after_script_flush(private_redis: str, key_prefix: str) -> None:
    config: Config = make_test_config(key_prefix, **{"redis.url": private_redis})
    redis = aioredis.Redis.from_url(private_redis, decode_responses=True)
    keys = AllKeys(prefix=key_prefix)
    try:
        registry = await registry_with(config, redis, keys, workers=3, clock=FakeClock())
        await screened(registry, nik(0), nik(1), nik(2))
        day = date(2021, 1, 14)
        first = await registry.book(nik(0), "PKM-01", day, "pagi")
        assert first.outcome is BookingOutcome.BOOKED
        await redis.script_flush()  # what a restarted or failed-over Redis looks like
        second = await registry.book(nik(1), "PKM-01", day, "pagi")
        assert second.outcome is BookingOutcome.BOOKED
        await redis.script_flush()
        slots = await registry.available_slots("PKM-01")
        assert next(s for s in slots if s.day == day and s.session_id == "pagi").booked == 2
        await redis.script_flush()
        assert len(await registry.facility_overview()) == 4
        await redis.script_flush()
        assert (await registry.verify("6281200000002", nik(2)[-6:])).worker is not None
        await redis.script_flush()
        await registry.warm_up()
        assert len(await redis.script_exists(*registry_script_shas())) >= 10
        assert all(await redis.script_exists(*registry_script_shas()))
    finally:
        await redis.aclose()
