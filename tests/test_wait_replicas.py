"""[redis] wait_replicas on a primary with one replica of the test's own: a booking's WAIT
holds up no other hop of the process (the bookings have a lean connection of their own)."""

from __future__ import annotations

import asyncio
import signal
from datetime import date
from pathlib import Path

import redis.asyncio as aioredis

from core.redis_client import connect, connect_lean
from core.settings import redis_settings
from registration.models import BookingOutcome
from registration.service import Registry
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.redis_server import needs_redis_server, own_redis, replicate
from tests.registry_backends import FakeClock
from tests.test_registration_support import nik, registry_with, screened

DAY = date(2021, 1, 14)  # tomorrow for the FakeClock


async def _until_a_client_waits(admin: aioredis.Redis) -> None:
    for _ in range(200):
        if "cmd=wait" in await admin.execute_command("CLIENT", "LIST"):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("no WAIT reached the primary")


@needs_redis_server
async def test_a_booking_waiting_for_a_replica_holds_up_no_other_hop(
    tmp_path: Path, key_prefix: str
) -> None:
    """The replica stops answering (SIGSTOP) while a booking waits for it: the process
    still answers everyone else (here a status lookup) at once; once the replica is back
    the booking is confirmed."""
    primary, replica = own_redis(tmp_path / "primary"), own_redis(tmp_path / "replica")
    overrides = {"redis.url": primary.url, "redis.wait_replicas": 1, "redis.wait_timeout_ms": 30000}
    config = make_test_config(key_prefix, **overrides)
    settings, keys = redis_settings(config), AllKeys(prefix=key_prefix)
    redis, lean = connect(settings), connect_lean(settings)
    stalled = False
    try:
        await replicate(primary, replica)
        setup = await registry_with(config, redis, keys, workers=2)
        await screened(setup, nik(0), nik(1))
        await setup.aclose()
        registry = Registry.from_config(config, redis, clock=FakeClock(), fast=lean)
        await registry.warm_up()
        assert replica.process is not None
        replica.process.send_signal(signal.SIGSTOP)
        stalled = True
        booking = asyncio.ensure_future(registry.book(nik(0), "PKM-01", DAY, "pagi"))
        await _until_a_client_waits(redis)
        # Before: this read queued behind the WAIT on the one shared connection, for as
        # long as the replica stayed silent (up to wait_timeout_ms).
        status = await asyncio.wait_for(registry.status_by_nik(nik(1)), 5)
        assert status is not None and status.worker.nik == nik(1)
        assert not booking.done()  # still waiting for the replica
        replica.process.send_signal(signal.SIGCONT)
        stalled = False
        result = await asyncio.wait_for(booking, 20)
        assert result.outcome is BookingOutcome.BOOKED and result.ticket is not None
        await registry.aclose()
    finally:
        if stalled and replica.process is not None:
            replica.process.send_signal(signal.SIGCONT)
        await lean.aclose()
        await redis.aclose()
        replica.stop()
        primary.stop()
