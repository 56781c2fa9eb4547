"""A retry that finds the booking already confirmed shows it only once a replica has it.

A booking confirmed by another process whose WAIT never finished (it crashed, or the
replica was slow) is met by the person's retry as "same"; the retry WAITs before it
shows the ticket, on the booking's master, over a connection that did not write the
confirmation. Redis (7.0) makes a connection's WAIT cover the master's replication
offset as of that connection's last command, here the retry's own claim script: the
stopped replica cannot acknowledge it, so the retry says "busy" until the replica is
back. Were the WAIT to cover only the connection's own writes (or were it dropped), the
ticket would be shown while only the master had it, and this test fails.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from datetime import date

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.redis_client import connect, connect_lean
from core.settings import redis_settings
from devtools.local_cluster import LocalCluster
from registration.models import BookingOutcome, BookingResult
from registration.service import Registry
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.registry_backends import FakeClock
from tests.test_registration_support import nik, registry_with, screened

pytestmark = pytest.mark.cluster
DAY = date(2021, 1, 14)  # tomorrow for the FakeClock


@pytest.fixture
def replicated_cluster() -> Iterator[LocalCluster]:
    cluster = LocalCluster(masters=3, replicas=1).start()
    try:
        yield cluster
    finally:
        for proc in cluster.processes.values():
            proc.send_signal(signal.SIGCONT)  # a stopped node would not see the kill
        cluster.stop()


async def _book_once_replicated(registry: Registry, who: str) -> BookingResult:
    """As a person retrying while told "busy" (the resumed replica catching up)."""
    for _ in range(50):
        try:
            return await registry.book(who, "PKM-01", DAY, "pagi")
        except RedisError:
            await asyncio.sleep(0.1)
    raise AssertionError("still busy 50 tries after the replica came back")


async def test_a_retry_meeting_an_unreplicated_booking_waits_for_the_replica(
    replicated_cluster: LocalCluster, key_prefix: str
) -> None:
    base = {"redis.url": replicated_cluster.url, "redis.wait_connections": 1}
    waiting = make_test_config(
        key_prefix, **base, **{"redis.wait_replicas": 1, "redis.wait_timeout_ms": 300}
    )
    settings, keys = redis_settings(waiting), AllKeys(prefix=key_prefix)
    redis = connect(settings)
    leans = [
        connect_lean(settings),
        connect_lean(redis_settings(make_test_config(key_prefix, **base))),
    ]
    registries: list[Registry] = []
    try:
        await registry_with(waiting, redis, keys, workers=6)
        # Someone whose booking lives on another master than the booking intents (those
        # the retry WAITs for first, on a cluster): the stopped replica is the booking's.
        intents = redis.get_node_from_key(keys.pending_releases()).port
        who = next(
            n
            for n in map(nik, range(6))
            if redis.get_node_from_key(keys.booking(n)).port != intents
        )
        registry = Registry.from_config(waiting, redis, clock=FakeClock(), fast=leans[0])
        registries.append(registry)  # its bookings' own connection is closed at the end
        await screened(registry, who)
        await leans[0].wait_replicas(keys.booking(who))  # the replica has all but what follows
        # The first attempt: a process that confirmed, then never finished its WAIT.
        crashed = Registry.from_config(
            make_test_config(key_prefix, **base), redis, clock=FakeClock(), fast=leans[1]
        )
        replica = replicated_cluster.replica_of(redis.get_node_from_key(keys.booking(who)).port)
        replicated_cluster.processes[replica].send_signal(signal.SIGSTOP)
        first = await crashed.book(who, "PKM-01", DAY, "pagi")
        assert first.outcome is BookingOutcome.BOOKED and first.ticket is not None
        with pytest.raises(RedisError, match="reached 0 of 1 replica"):
            await registry.book(who, "PKM-01", DAY, "pagi")  # not shown: "busy"
        replicated_cluster.processes[replica].send_signal(signal.SIGCONT)
        retry = await _book_once_replicated(registry, who)
        assert retry.outcome is BookingOutcome.BOOKED and retry.ticket == first.ticket
        copy = aioredis.Redis(port=replica, decode_responses=True)
        await copy.execute_command("READONLY")
        assert await copy.hget(keys.booking(who), "code") == first.ticket.code  # the replica has it
        await copy.aclose()
    finally:
        for opened in registries:
            await opened.aclose()
        for lean in leans:
            await lean.aclose()
        await redis.aclose()
