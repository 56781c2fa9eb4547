"""A master killed (kill -9) under booking load, on a cluster with one replica per master.

With ``[redis] wait_replicas = 1`` a booking is confirmed only once a replica holds it,
so the replica the cluster promotes has every booking a person was told about.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from redis.exceptions import RedisError

from core.redis_client import connect, connect_lean
from core.settings import redis_settings
from devtools.local_cluster import LocalCluster
from registration.models import BookingOutcome
from registration.service import Registry
from tests.conftest import delete_keys, make_test_config
from tests.keys import AllKeys
from tests.registry_backends import START
from tests.test_registration_support import nik, registry_with, screened

pytestmark = pytest.mark.cluster
PEOPLE = 240
SPEED = 10  # the registry's clock runs this much faster than real time (claims expire)


class FastClock:
    """START, then time passing SPEED times faster: a claim left by a booking cut short by
    the kill expires (claim_timeout_seconds + grace, clock time) within a second or two."""

    def __init__(self) -> None:
        self.origin = time.monotonic()

    def __call__(self) -> float:
        return START + (time.monotonic() - self.origin) * SPEED


@pytest.fixture
def failover_cluster() -> Iterator[LocalCluster]:
    """3 masters, 3 replicas, a replica promoted about a second after its master dies."""
    cluster = LocalCluster(masters=3, replicas=1, node_timeout_ms=1000).start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def _book_until_answered(
    registry: Registry, who: str, day: object, session: str, confirmed: dict[str, str]
) -> None:
    """Book like a person who retries while the service says "busy"."""
    last: BaseException | None = None
    for _ in range(200):
        try:
            result = await registry.book(who, "PKM-01", day, session)  # type: ignore[arg-type]
        except (RedisError, OSError) as exc:
            last = exc
            await asyncio.sleep(0.1)
            continue
        if result.ticket is not None and result.outcome in (
            BookingOutcome.BOOKED,
            BookingOutcome.ALREADY_BOOKED,
        ):
            confirmed[who] = result.ticket.code
            return
        if result.outcome is BookingOutcome.FULL:
            # Seats of attempts cut short on the dead master come back with the repair
            # (claim timeout + grace): a person told "full" then may try again later.
            await asyncio.sleep(0.2)
            continue
        if result.outcome not in (None, BookingOutcome.ALREADY_BOOKED):
            confirmed[who] = f"refused: {result.outcome}"
            return
        await asyncio.sleep(0.05)  # busy, or an attempt cut short still holds the claim
    raise AssertionError(f"no answer for one booking after 200 tries: {last!r}")


async def test_a_killed_master_loses_no_confirmed_booking(
    failover_cluster: LocalCluster, key_prefix: str
) -> None:
    overrides = {
        "redis.url": failover_cluster.url,
        "redis.wait_replicas": 1,
        "redis.wait_timeout_ms": 2000,
        "registration.claim_timeout_seconds": 5,
    }
    config = make_test_config(key_prefix, **overrides)
    settings, keys = redis_settings(config), AllKeys(prefix=key_prefix)
    redis, lean = connect(settings), connect_lean(settings)
    try:
        setup = await registry_with(config, redis, keys, workers=PEOPLE)
        people = [nik(i) for i in range(PEOPLE)]
        await screened(setup, *people)
        registry = Registry.from_config(config, redis, clock=FastClock(), fast=lean)
        slots = [s for s in await registry.available_slots("PKM-01") if s.seats_left]
        assert sum(s.seats_left for s in slots) >= PEOPLE
        confirmed: dict[str, str] = {}
        # As a server does: seats of attempts cut short go back (the claims expire fast).
        repair = asyncio.ensure_future(registry.maintenance_loop(0.2))
        tasks = [
            asyncio.ensure_future(
                _book_until_answered(registry, who, slots[i % len(slots)].day,
                                     slots[i % len(slots)].session_id, confirmed)
            )
            for i, who in enumerate(people)
        ]  # fmt: skip
        while len(confirmed) < PEOPLE // 3:
            await asyncio.sleep(0.01)
        victim = failover_cluster.master_ports()[0]
        failover_cluster.kill(victim)
        await asyncio.to_thread(failover_cluster.wait_promoted, victim)
        # The promoted master has no replica (WAIT fails, bookings there say "busy")
        # until the dead node is back, as a supervisor would restart it.
        await asyncio.to_thread(failover_cluster.restart, victim)
        await asyncio.gather(*tasks)
        refused = {who: why for who, why in confirmed.items() if why.startswith("refused")}
        assert (len(confirmed), refused) == (PEOPLE, {})
        for who, code in confirmed.items():
            booking = await redis.hgetall(keys.booking(who))
            assert (booking.get("state"), booking.get("code")) == ("active", code), who
            assert await redis.hget(keys.ticket(code), "state") == "active"
        # Attempts cut short by the kill hold seats until the repair loop gives them back
        # (their claims expire: claim_timeout_seconds + grace, clock time).
        await asyncio.sleep(20 / SPEED)
        repair.cancel()
        while await registry.repair():
            pass
        taken = 0
        for slot in {(s.day,) for s in slots}:
            booked = await redis.hgetall(keys.slot_booked("PKM-01", slot[0].strftime("%Y%m%d")))
            taken += sum(int(v) for v in booked.values())
        assert taken == PEOPLE  # one seat each: nobody lost theirs, nobody holds two
    finally:
        await delete_keys(redis, key_prefix)
        await lean.aclose()
        await redis.aclose()
