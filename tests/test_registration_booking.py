"""Booking against a real Redis: races, idempotency, cancel/reschedule, crash repair."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date

import pytest
import redis.asyncio as aioredis

from core.config import Config
from registration import booking
from registration.models import BookingOutcome
from registration.records import day_key
from registration.service import Registry
from tests.conftest import TEST_REDIS_URL
from tests.keys import AllKeys
from tests.test_registration_support import FakeClock, nik, registry_with, screened

DAY = date(2021, 1, 14)  # tomorrow for the FakeClock


@pytest.fixture
async def pooled(redis: aioredis.Redis) -> AsyncIterator[aioredis.Redis]:
    """A second client on a blocking pool of 40 connections shared by hundreds of tasks."""
    pool = aioredis.BlockingConnectionPool.from_url(
        TEST_REDIS_URL, max_connections=40, decode_responses=True, timeout=30
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


async def test_one_active_booking_per_registrant(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    registry = await registry_with(config, redis, keys, workers=1)
    await screened(registry, nik(0))
    slots = [s for s in await registry.available_slots("PKM-01")][:6]
    results = await asyncio.gather(
        *(registry.book(nik(0), "PKM-01", s.day, s.session_id) for s in slots)
    )
    outcomes = Counter(r.outcome for r in results)
    assert outcomes == {BookingOutcome.BOOKED: 1, BookingOutcome.ALREADY_BOOKED: 5}
    codes = {r.ticket.code for r in results if r.ticket}
    assert len(codes) == 1  # ALREADY_BOOKED hands back the one existing ticket
    taken = sum(s.booked for s in await registry.available_slots("PKM-01"))
    assert taken == 1


async def test_cancel_gives_the_seat_back(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    registry = await registry_with(config, redis, keys, workers=2, facility="PKM-02")
    await screened(registry, nik(0), nik(1))
    # PKM-02: 41 a day -> 21 in the morning (remainder to the first session), 20 after.
    slots = await registry.available_slots("PKM-02")
    assert [(s.session_id, s.capacity) for s in slots[:2]] == [("pagi", 21), ("siang", 20)]
    first = await registry.book(nik(0), "PKM-02", DAY, "siang")
    assert first.outcome is BookingOutcome.BOOKED and first.ticket
    assert await seats_taken(redis, keys, "PKM-02", DAY) == {"siang": "1"}
    cancelled = await registry.cancel(nik(0))
    assert cancelled is not None and cancelled.code == first.ticket.code
    assert cancelled.state == "cancelled"
    assert await seats_taken(redis, keys, "PKM-02", DAY) == {"siang": "0"}
    assert await registry.cancel(nik(0)) is None  # nothing left to cancel
    ticket = await registry.ticket(first.ticket.code)
    assert ticket is not None and ticket.state == "cancelled"
    # A cancelled registrant may book again: a new ticket.
    again = await registry.book(nik(0), "PKM-02", DAY, "pagi")
    assert again.outcome is BookingOutcome.BOOKED and again.ticket
    assert again.ticket.code != first.ticket.code
    stats = (await registry.stats())["totals"]
    assert (stats["booked"], stats["cancelled"]) == (1, 1)


async def test_reschedule_moves_the_seat_and_keeps_it_when_full(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    registry = await registry_with(config, redis, keys, workers=2)
    await screened(registry, nik(0), nik(1))
    first = await registry.book(nik(0), "PKM-01", DAY, "pagi")
    assert first.ticket
    moved = await registry.reschedule(nik(0), "RSUD-01", date(2021, 1, 15), "siang")
    assert moved.outcome is BookingOutcome.BOOKED and moved.ticket
    assert (moved.ticket.facility_id, moved.ticket.session_id) == ("RSUD-01", "siang")
    assert await seats_taken(redis, keys, "PKM-01", DAY) == {"pagi": "0"}
    assert await seats_taken(redis, keys, "RSUD-01", date(2021, 1, 15)) == {"siang": "1"}
    old = await registry.ticket(first.ticket.code)
    assert old is not None and old.state == "cancelled"
    # Fill PKM-02's morning (21 seats) and try to move there: FULL, current booking kept.
    await redis.hset(keys.slot_booked("PKM-02", day_key(DAY)), "pagi", 21)
    full = await registry.reschedule(nik(0), "PKM-02", DAY, "pagi")
    assert full.outcome is BookingOutcome.FULL
    status = await registry.status_by_nik(nik(0))
    assert status and status.ticket and status.ticket.code == moved.ticket.code
    assert status.ticket.state == "active"


async def test_refusals(redis: aioredis.Redis, keys: AllKeys, config: Config) -> None:
    registry = await registry_with(config, redis, keys, workers=3)
    # Not screened, deferred, not eligible: no booking.
    assert (await registry.book(nik(0), "PKM-01", DAY, "pagi")).outcome == "not_eligible"
    yes_to = {g.group_id: False for g in registry.screening_groups()}
    deferred = await registry.record_screening(nik(1), {**yes_to, "gejala": True})
    assert deferred.outcome == "deferred" and deferred.retry_on == date(2021, 1, 27)
    assert (await registry.book(nik(1), "PKM-01", DAY, "pagi")).outcome == "not_eligible"
    await screened(registry, nik(2))
    invalid = [
        ("PKM-404", DAY, "pagi"),  # unknown facility
        ("PKM-01", DAY, "malam"),  # unknown session
        ("PKM-01", date(2021, 1, 13), "pagi"),  # today: the window starts tomorrow
        ("PKM-01", date(2021, 1, 17), "pagi"),  # a Sunday (closed)
        ("PKM-01", date(2021, 1, 28), "pagi"),  # past the 14-day window
    ]
    for facility, day, session in invalid:
        result = await registry.book(nik(2), facility, day, session)
        assert result.outcome == "invalid_slot", (facility, day, session)
    assert (await registry.book("3273011503859999", "PKM-01", DAY, "pagi")).outcome == (
        "not_eligible"
    )
    days = {s.day for s in await registry.available_slots("PKM-01")}
    assert min(days) == DAY and date(2021, 1, 17) not in days and max(days) == date(2021, 1, 27)
    assert await registry.available_slots("PKM-404") == []


async def test_a_crashed_booking_gives_its_seat_back(
    redis: aioredis.Redis, keys: AllKeys, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    registry = await registry_with(config, redis, keys, workers=2, clock=clock)
    await screened(registry, nik(0), nik(1))

    async def crash(*args: object, **kwargs: object) -> None:
        raise ConnectionError("process died after taking the seat")

    with monkeypatch.context() as patch:
        patch.setattr(booking.Booker, "_new_ticket", crash)
        for who in (nik(0), nik(1)):
            with pytest.raises(ConnectionError):
                await registry.book(who, "PKM-01", DAY, "pagi")
    assert await seats_taken(redis, keys, "PKM-01", DAY) == {"pagi": "2"}
    assert await registry.repair() == 0  # claims still within their time: left alone

    clock.advance(booking.GRACE_MS / 1000 + 31)
    # nik(0) comes back: the stale claim is replaced and its seat returned at once.
    again = await registry.book(nik(0), "PKM-01", DAY, "pagi")
    assert again.outcome is BookingOutcome.BOOKED
    assert await seats_taken(redis, keys, "PKM-01", DAY) == {"pagi": "2"}
    # nik(1) never comes back: the sweeper returns that seat.
    assert await registry.repair() == 1
    assert await seats_taken(redis, keys, "PKM-01", DAY) == {"pagi": "1"}
    assert await registry.repair() == 0
    assert await redis.zcard(keys.pending_releases()) == 0
