"""[redis] wait_replicas on a primary with one replica of the test's own: neither a booking's
WAIT nor a blast's holds up the other hops of the process (each has a lean connection of
its own), and the bookings of a process wait side by side, not one after another."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from core.config import Config
from core.redis_client import connect, connect_lean
from core.settings import redis_settings
from devtools.private_redis import PrivateRedis
from registration.models import BookingOutcome, BookingResult
from registration.records import day_key
from registration.service import Registry
from smpp import campaigns
from smpp.service import SmsService
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.redis_server import needs_redis_server, own_redis, replicate
from tests.registry_backends import FakeClock
from tests.test_registration_support import nik, registry_with, screened
from tests.test_smpp_support import Sim, seed_workers, sim_fixture, smpp_overrides  # noqa: F401
from ussd_server.context import build_context

DAY = date(2021, 1, 14)  # tomorrow for the FakeClock


async def _until_clients_wait(admin: aioredis.Redis, count: int = 1) -> None:
    waiting = 0
    for _ in range(200):
        waiting = (await admin.execute_command("CLIENT", "LIST")).count("cmd=wait")
        if waiting >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{waiting} of {count} WAITs reached the primary at once")


async def _primary_and_replica(tmp_path: Path) -> tuple[PrivateRedis, PrivateRedis]:
    primary, replica = own_redis(tmp_path / "primary"), own_redis(tmp_path / "replica")
    await replicate(primary, replica)
    return primary, replica


def _signal(server: PrivateRedis, signum: signal.Signals) -> None:
    """SIGSTOP: the replica answers nothing (a hung host); SIGCONT: it goes on."""
    if server.process is not None:
        server.process.send_signal(signum)


def _stop(primary: PrivateRedis, replica: PrivateRedis) -> None:
    _signal(replica, signal.SIGCONT)  # a stopped process would not see the SIGTERM
    replica.stop()
    primary.stop()


def _waiting_config(key_prefix: str, primary: PrivateRedis, **extra: object) -> Config:
    overrides = {"redis.url": primary.url, "redis.wait_replicas": 1, "redis.wait_timeout_ms": 30000}
    return make_test_config(key_prefix, **overrides, **extra)


@dataclass
class Waiting:
    """A Registry that WAITs for the replica, on the test's own primary and replica."""

    registry: Registry
    redis: aioredis.Redis  # the primary
    keys: AllKeys
    replica: PrivateRedis


@contextlib.asynccontextmanager
async def _waiting_registry(
    tmp_path: Path, key_prefix: str, people: int, **extra: object
) -> AsyncIterator[Waiting]:
    """nik(0) .. nik(people - 1) listed and screened; everything closed and stopped after."""
    primary, replica = await _primary_and_replica(tmp_path)
    config = _waiting_config(key_prefix, primary, **extra)
    settings, keys = redis_settings(config), AllKeys(prefix=key_prefix)
    redis, lean = connect(settings), connect_lean(settings)
    try:
        setup = await registry_with(config, redis, keys, workers=people)
        await screened(setup, *(nik(i) for i in range(people)))
        await setup.aclose()
        registry = Registry.from_config(config, redis, clock=FakeClock(), fast=lean)
        await registry.warm_up()
        try:
            yield Waiting(registry, redis, keys, replica)
        finally:
            await registry.aclose()
    finally:
        await lean.aclose()
        await redis.aclose()
        _stop(primary, replica)


async def _settled(pending: asyncio.Future[Any] | None) -> None:
    """A failed run leaves no task behind for the next test."""
    if pending is not None:
        pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)


@needs_redis_server
async def test_a_booking_waiting_for_a_replica_holds_up_no_other_hop(
    tmp_path: Path, key_prefix: str
) -> None:
    """The replica stops answering while a booking waits for it: the process still
    answers everyone else (here a status lookup) at once; once the replica is back the
    booking is confirmed."""
    async with _waiting_registry(tmp_path, key_prefix, 2) as w:
        booking: asyncio.Future[BookingResult] | None = None
        try:
            _signal(w.replica, signal.SIGSTOP)
            booking = asyncio.ensure_future(w.registry.book(nik(0), "PKM-01", DAY, "pagi"))
            await _until_clients_wait(w.redis)
            # Before: this read queued behind the WAIT on the one shared connection until
            # the watchdog dropped it (every hop in flight "busy").
            status = await asyncio.wait_for(w.registry.status_by_nik(nik(1)), 5)
            assert status is not None and status.worker.nik == nik(1)
            assert not booking.done()  # still waiting for the replica
            _signal(w.replica, signal.SIGCONT)
            result = await asyncio.wait_for(booking, 20)
            assert result.outcome is BookingOutcome.BOOKED and result.ticket is not None
        finally:
            await _settled(booking)


async def _wait_commands(server: aioredis.Redis) -> int:
    return int((await server.info("commandstats")).get("cmdstat_wait", {}).get("calls", 0))


@needs_redis_server
async def test_a_booking_is_on_the_replica_when_confirmed_after_one_wait(
    tmp_path: Path, key_prefix: str
) -> None:
    """On one Redis a single WAIT, after the confirmation, covers the seat and the ticket
    too (one replication stream, written in order): one replica round trip per booking."""
    async with _waiting_registry(tmp_path, key_prefix, 1) as w:
        copy = aioredis.Redis.from_url(w.replica.url, decode_responses=True)
        try:
            before = await _wait_commands(w.redis)
            result = await w.registry.book(nik(0), "PKM-01", DAY, "pagi")
            assert result.outcome is BookingOutcome.BOOKED and result.ticket is not None
            assert await _wait_commands(w.redis) - before == 1
            # What the person was told is on the replica already: booking, ticket, seat.
            keys = w.keys
            assert await copy.hget(keys.booking(nik(0)), "code") == result.ticket.code
            assert await copy.hget(keys.ticket(result.ticket.code), "state") == "active"
            assert await copy.hget(keys.slot_booked("PKM-01", day_key(DAY)), "pagi") == "1"
        finally:
            await copy.aclose()


@needs_redis_server
async def test_bookings_wait_for_a_replica_side_by_side(tmp_path: Path, key_prefix: str) -> None:
    """Three people book while the replica is stopped: all three WAITs are on the primary
    at once ([redis] wait_connections = 3), where they used to queue on one connection
    (the third waiting out the first two); all three are confirmed once it is back."""
    connections = {"redis.wait_connections": 3}
    async with _waiting_registry(tmp_path, key_prefix, 3, **connections) as w:
        bookings: asyncio.Future[list[BookingResult]] | None = None
        try:
            _signal(w.replica, signal.SIGSTOP)
            people = [nik(i) for i in range(3)]
            bookings = asyncio.gather(*(w.registry.book(n, "PKM-01", DAY, "pagi") for n in people))
            await _until_clients_wait(w.redis, 3)
            _signal(w.replica, signal.SIGCONT)
            results = await asyncio.wait_for(bookings, 20)
            assert [r.outcome for r in results] == [BookingOutcome.BOOKED] * 3
            assert len({r.ticket.code for r in results if r.ticket is not None}) == 3
        finally:
            await _settled(bookings)


@needs_redis_server
async def test_a_blast_waiting_for_a_replica_holds_up_no_other_hop(
    tmp_path: Path, key_prefix: str, sim: Sim
) -> None:
    """The SMS channel inside a server process: its blast's flush waits for a stopped
    replica while a hop's lookup on the process's connection is answered at once; the
    blast finishes once the replica is back."""
    primary, replica = await _primary_and_replica(tmp_path)
    config = _waiting_config(key_prefix, primary, **smpp_overrides(sim))
    ctx = build_context(config)  # as a server process: one lean connection for all
    service = SmsService(config, ctx.redis, ctx.outbox, ctx.registry, ctx.engine, lean=ctx.lean)
    try:
        people = await seed_workers(ctx.redis, AllKeys(prefix=key_prefix), 20)
        await service.start()
        assert await service.pool.wait_ready(5)
        _signal(replica, signal.SIGSTOP)
        text = "Halo {first_name}, daftar vaksinasi: balas VAKSIN."
        await campaigns.create(service.store, service.blast, "k", text, {}, False)
        await campaigns.transition(service.store, "k", "start")
        await _until_clients_wait(ctx.redis)
        status = await asyncio.wait_for(ctx.registry.status_by_nik(people[0][0]), 5)
        assert status is not None and status.worker.phone == people[0][1]
        _signal(replica, signal.SIGCONT)
        for _ in range(300):
            progress = await campaigns.progress(service.store, "k")
            if progress["state"] == "done":
                break
            await asyncio.sleep(0.1)
        assert (progress["state"], progress["submitted"]) == ("done", 20)
    finally:
        await service.stop()
        await ctx.aclose()
        _stop(primary, replica)
