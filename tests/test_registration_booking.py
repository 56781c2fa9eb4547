"""Booking against a real Redis: races over a connection pool, crash repair, the key layout.

The booking rules themselves are contract tests (test_registration_contract_booking.py).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date

import pytest
import redis.asyncio as aioredis

from core.config import Config
from core.redis_client import connect
from core.redis_cluster import is_cluster_url
from core.settings import redis_settings
from registration import redis_bookings
from registration.models import BookingOutcome
from registration.records import day_key
from registration.service import Registry
from tests.conftest import make_test_config, test_redis_url
from tests.keys import AllKeys
from tests.test_registration_support import FakeClock, nik, registry_with, screened

DAY = date(2021, 1, 14)  # tomorrow for the FakeClock


@pytest.fixture
async def pooled(redis: aioredis.Redis) -> AsyncIterator[aioredis.Redis]:
    """A second client on a blocking pool of 40 connections shared by hundreds of tasks."""
    url = test_redis_url()
    if is_cluster_url(url):  # the cluster variant: redis-py's cluster client, 40 a node
        cluster = connect(replace(redis_settings(make_test_config("x")), max_connections=40))
        yield cluster  # type: ignore[misc]
        await cluster.aclose()
        return
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=40, decode_responses=True, timeout=30
    )
    client = aioredis.Redis(connection_pool=pool)
    yield client
    await client.aclose()
    await pool.disconnect()


async def seats_taken(redis: aioredis.Redis, keys: AllKeys, facility: str, day: date) -> dict:
    return await redis.hgetall(keys.slot_booked(facility, day_key(day)))


async def test_500_concurrent_bookings_for_50_seats(
    redis: aioredis.Redis, pooled: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    # PKM-01 has 100 seats a day: 50 in the morning ("pagi"), 50 in the afternoon.
    setup = await registry_with(config, redis, keys, workers=400)
    people = [nik(i) for i in range(400)]
    await screened(setup, *people)
    registry = Registry.from_config(config, pooled, clock=FakeClock())
    # 400 people, 100 of whom press "confirm" twice at the same moment: 500 requests.
    requests = people + people[:100]
    results = await asyncio.gather(*(registry.book(who, "PKM-01", DAY, "pagi") for who in requests))
    outcomes = Counter(r.outcome for r in results)
    booked_people = {r.ticket.nik for r in results if r.outcome is BookingOutcome.BOOKED}
    assert len(booked_people) == 50
    assert set(outcomes) <= {BookingOutcome.BOOKED, BookingOutcome.FULL}
    # A double press returns the same ticket, never a second seat.
    codes_by_person: dict[str, set[str]] = {}
    for r in results:
        if r.ticket:
            codes_by_person.setdefault(r.ticket.nik, set()).add(r.ticket.code)
    assert all(len(codes) == 1 for codes in codes_by_person.values())
    assert await seats_taken(redis, keys, "PKM-01", DAY) == {"pagi": "50"}
    assert await redis.hlen(keys.slot_holders("PKM-01", day_key(DAY))) == 50
    slots = await registry.available_slots("PKM-01")
    pagi = next(s for s in slots if s.day == DAY and s.session_id == "pagi")
    assert (pagi.capacity, pagi.booked, pagi.seats_left) == (50, 50, 0)
    assert (await registry.stats())["totals"]["booked"] == 50


async def test_seats_and_bookings_keep_their_redis_layout(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    """Data written by earlier versions must still read: the same keys, the same fields."""
    registry = await registry_with(config, redis, keys, workers=2, facility="PKM-02")
    await screened(registry, nik(0), nik(1))
    first = await registry.book(nik(0), "PKM-02", DAY, "siang")
    assert first.ticket is not None
    assert await seats_taken(redis, keys, "PKM-02", DAY) == {"siang": "1"}
    holders = await redis.hgetall(keys.slot_holders("PKM-02", day_key(DAY)))
    assert list(holders.values()) == ["siang"] and next(iter(holders)).startswith(nik(0) + "|")
    booking = await redis.hgetall(keys.booking(nik(0)))
    assert {k: booking[k] for k in ("state", "fid", "day", "session", "dose", "code")} == {
        "state": "active",
        "fid": "PKM-02",
        "day": "20210114",
        "session": "siang",
        "dose": "1",
        "code": first.ticket.code,
    }
    assert await redis.hget(keys.ticket(first.ticket.code), "state") == "active"
    await registry.cancel(nik(0))
    assert await seats_taken(redis, keys, "PKM-02", DAY) == {"siang": "0"}
    assert await redis.hget(keys.booking(nik(0)), "state") == "cancelled"
    assert await redis.hget(keys.ticket(first.ticket.code), "state") == "cancelled"
    assert await redis.zcard(keys.pending_releases()) == 0
    stats = await redis.hgetall(keys.stats())
    assert stats["status:booked"] == "0" and stats["regency:Kota Bandung:cancelled"] == "1"


async def test_a_crashed_booking_gives_its_seat_back(
    redis: aioredis.Redis, keys: AllKeys, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    registry = await registry_with(config, redis, keys, workers=2, clock=clock)
    await screened(registry, nik(0), nik(1))

    async def crash(*args: object, **kwargs: object) -> None:
        raise ConnectionError("process died after taking the seat")

    with monkeypatch.context() as patch:
        patch.setattr(redis_bookings.RedisBookings, "_new_ticket", crash)
        for who in (nik(0), nik(1)):
            with pytest.raises(ConnectionError):
                await registry.book(who, "PKM-01", DAY, "pagi")
    assert await seats_taken(redis, keys, "PKM-01", DAY) == {"pagi": "2"}
    assert await registry.repair() == 0  # claims still within their time: left alone

    clock.advance(redis_bookings.GRACE_MS / 1000 + 31)
    # nik(0) comes back: the stale claim is replaced and its seat returned at once.
    again = await registry.book(nik(0), "PKM-01", DAY, "pagi")
    assert again.outcome is BookingOutcome.BOOKED
    assert await seats_taken(redis, keys, "PKM-01", DAY) == {"pagi": "2"}
    # nik(1) never comes back: the sweeper returns that seat.
    assert await registry.repair() == 1
    assert await seats_taken(redis, keys, "PKM-01", DAY) == {"pagi": "1"}
    assert await registry.repair() == 0
    assert await redis.zcard(keys.pending_releases()) == 0


async def test_a_confirmation_arriving_after_the_repair_is_refused(
    redis: aioredis.Redis, keys: AllKeys, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A confirmation can reach Redis seconds after its time was read: on the one
    pipelined connection it may queue behind a WAIT that lasts until its timeout. If the
    repair gave the claim's seat back meanwhile, that booking must not be confirmed on
    a seat it no longer holds: the attempt starts again and takes a seat of its own."""
    clock = FakeClock()
    registry = await registry_with(config, redis, keys, workers=1, clock=clock)
    await screened(registry, nik(0))
    confirm, delayed = redis_bookings.RedisBookings._confirm, []

    async def late(self: redis_bookings.RedisBookings, claim: object, *args: object) -> object:
        if not delayed:  # the first attempt: the repair runs before its confirmation lands
            delayed.append(clock.now)
            clock.advance(2 * redis_bookings.GRACE_MS / 1000 + 60)
            assert await registry.repair() == 1
            clock.now = delayed[0]  # the confirmation's time, read before the delay
        return await confirm(self, claim, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(redis_bookings.RedisBookings, "_confirm", late)
    result = await registry.book(nik(0), "PKM-01", DAY, "pagi")
    assert result.outcome is BookingOutcome.BOOKED and delayed
    booking = await redis.hgetall(keys.booking(nik(0)))
    holders = await redis.hgetall(keys.slot_holders("PKM-01", day_key(DAY)))
    assert holders == {f"{nik(0)}|{booking['claim']}": "pagi"}
    assert await seats_taken(redis, keys, "PKM-01", DAY) == {"pagi": "1"}
