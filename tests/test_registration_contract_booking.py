"""Booking rules: capacity, one booking per person, idempotency, cancel, reschedule, refusals.

Contract tests: each runs against the Redis stores and the memory stores.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

from registration.models import BookingOutcome, Ticket
from registration.service import Registry
from registration.stores import Seat
from tests.registry_backends import Backend
from tests.test_registration_support import load, nik, screened

DAY = date(2021, 1, 14)  # tomorrow for the FakeClock
# 3 seats a day: 2 in the morning ("pagi": the remainder goes to the first session), 1 after.
SMALL = "PKM-KECIL,Puskesmas Kecil,Kota Bandung,Jl. Kecil 1,3"


async def booked_seats(registry: Registry, facility: str, day: date = DAY) -> dict[str, int]:
    slots = await registry.available_slots(facility)
    return {s.session_id: s.booked for s in slots if s.day == day}


async def test_a_session_never_takes_more_than_its_seats(backend: Backend) -> None:
    registry = await load(backend.registry, 5, "PKM-01", SMALL)
    people = [nik(i) for i in range(5)]
    await screened(registry, *people)
    results = await asyncio.gather(*(registry.book(p, "PKM-KECIL", DAY, "pagi") for p in people))
    assert Counter(r.outcome for r in results) == {BookingOutcome.BOOKED: 2, BookingOutcome.FULL: 3}
    slots = await registry.available_slots("PKM-KECIL")
    pagi = next(s for s in slots if s.day == DAY and s.session_id == "pagi")
    assert (pagi.capacity, pagi.booked, pagi.seats_left) == (2, 2, 0)
    # PKM-02: 41 a day -> 21 in the morning, 20 after.
    split = await registry.available_slots("PKM-02")
    assert [(s.session_id, s.capacity, s.label) for s in split[:2]] == [
        ("pagi", 21, "08:00-12:00"),
        ("siang", 20, "13:00-16:00"),
    ]
    assert (await registry.stats())["totals"]["booked"] == 2


async def test_one_active_booking_per_registrant(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    await screened(registry, nik(0))
    slots = (await registry.available_slots("PKM-01"))[:6]
    results = await asyncio.gather(
        *(registry.book(nik(0), "PKM-01", s.day, s.session_id) for s in slots)
    )
    outcomes = Counter(r.outcome for r in results)
    assert outcomes == {BookingOutcome.BOOKED: 1, BookingOutcome.ALREADY_BOOKED: 5}
    assert len({r.ticket.code for r in results if r.ticket}) == 1  # the one existing ticket
    assert sum(s.booked for s in await registry.available_slots("PKM-01")) == 1


async def test_booking_the_same_slot_again_returns_the_same_ticket(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    await screened(registry, nik(0))
    first = await registry.book(nik(0), "PKM-01", DAY, "pagi")
    again = await registry.book(nik(0), "PKM-01", DAY, "pagi")
    same = await registry.reschedule(nik(0), "PKM-01", DAY, "pagi")
    assert first.outcome is again.outcome is same.outcome is BookingOutcome.BOOKED
    assert first.ticket is not None and first.ticket == again.ticket == same.ticket
    assert await booked_seats(registry, "PKM-01") == {"pagi": 1, "siang": 0}
    assert (await registry.stats())["totals"]["booked"] == 1


async def test_cancel_gives_the_seat_back(backend: Backend) -> None:
    registry = await load(backend.registry, 2, "PKM-02")
    await screened(registry, nik(0), nik(1))
    first = await registry.book(nik(0), "PKM-02", DAY, "siang")
    assert first.outcome is BookingOutcome.BOOKED and first.ticket
    assert await booked_seats(registry, "PKM-02") == {"pagi": 0, "siang": 1}
    cancelled = await registry.cancel(nik(0))
    assert cancelled is not None and cancelled.code == first.ticket.code
    assert cancelled.state == "cancelled"
    assert await booked_seats(registry, "PKM-02") == {"pagi": 0, "siang": 0}
    assert await registry.cancel(nik(0)) is None  # nothing left to cancel
    assert await registry.cancel(nik(1)) is None  # never booked
    ticket = await registry.ticket(first.ticket.code)
    assert ticket is not None and ticket.state == "cancelled"
    # A cancelled registrant may book again: a new ticket.
    again = await registry.book(nik(0), "PKM-02", DAY, "pagi")
    assert again.outcome is BookingOutcome.BOOKED and again.ticket
    assert again.ticket.code != first.ticket.code
    stats = (await registry.stats())["totals"]
    assert (stats["booked"], stats["cancelled"]) == (1, 1)
    status = await registry.status_by_nik(nik(0))
    assert status is not None and status.ticket == again.ticket
    history = [line.split(" ", 2)[1:] for line in status.history]
    assert history == [
        ["booked", f"{first.ticket.code} PKM-02 20210114 siang dose 1"],
        ["cancelled", first.ticket.code],
        ["booked", f"{again.ticket.code} PKM-02 20210114 pagi dose 1"],
    ]


async def test_reschedule_moves_the_seat_and_keeps_it_when_full(backend: Backend) -> None:
    registry = await load(backend.registry, 2, "PKM-01", SMALL)
    await screened(registry, nik(0), nik(1))
    first = await registry.book(nik(0), "PKM-01", DAY, "pagi")
    assert first.ticket
    moved = await registry.reschedule(nik(0), "PKM-SBY", date(2021, 1, 15), "siang")
    assert moved.outcome is BookingOutcome.BOOKED and moved.ticket
    assert (moved.ticket.facility_id, moved.ticket.session_id) == ("PKM-SBY", "siang")
    assert await booked_seats(registry, "PKM-01") == {"pagi": 0, "siang": 0}
    assert (await booked_seats(registry, "PKM-SBY", date(2021, 1, 15)))["siang"] == 1
    old = await registry.ticket(first.ticket.code)
    assert old is not None and old.state == "cancelled"
    stats = await registry.stats()  # the booking moved to another regency
    assert stats["totals"]["booked"] == 1
    assert stats["by_regency"]["Kota Bandung"]["booked"] == 0
    assert stats["by_regency"]["Kota Surabaya"]["booked"] == 1
    # The small facility's afternoon (1 seat) is taken: moving there is FULL, nothing changes.
    taken = await registry.book(nik(1), "PKM-KECIL", DAY, "siang")
    assert taken.outcome is BookingOutcome.BOOKED
    full = await registry.reschedule(nik(0), "PKM-KECIL", DAY, "siang")
    assert full.outcome is BookingOutcome.FULL
    status = await registry.status_by_nik(nik(0))
    assert status and status.ticket == moved.ticket and status.ticket.state == "active"


async def test_reschedule_keeps_the_dose_and_needs_a_booking_to_move(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    await screened(registry, nik(0))
    # Rescheduling without a booking books (there is nothing to replace).
    first = await registry.reschedule(nik(0), "PKM-01", DAY, "pagi")
    assert first.outcome is BookingOutcome.BOOKED and first.ticket
    moved = await registry.reschedule(nik(0), "PKM-02", DAY, "pagi")
    assert moved.ticket is not None and moved.ticket.dose == first.ticket.dose == 1


async def test_refusals(backend: Backend) -> None:
    registry = await load(backend.registry, workers=3)
    # Not screened, deferred, not eligible: no booking.
    assert (await registry.book(nik(0), "PKM-01", DAY, "pagi")).outcome == "not_eligible"
    no = {g.group_id: False for g in registry.screening_groups()}
    deferred = await registry.record_screening(nik(1), {**no, "gejala": True})
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
    unlisted = await registry.book("3273011503859999", "PKM-01", DAY, "pagi")
    assert unlisted.outcome == "not_eligible"
    days = {s.day for s in await registry.available_slots("PKM-01")}
    assert min(days) == DAY and date(2021, 1, 17) not in days and max(days) == date(2021, 1, 27)
    assert await registry.available_slots("PKM-404") == []
    assert (await registry.stats())["totals"]["booked"] == 0


async def test_the_window_follows_the_clock_in_local_time(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    await screened(registry, nik(0))
    backend.clock.advance(14 * 3600)  # 13 January 17:00 UTC = 14 January 00:00 in Jakarta
    days = [s.day for s in await registry.available_slots("PKM-01")]
    assert days[0] == date(2021, 1, 15)
    late = await registry.book(nik(0), "PKM-01", DAY, "pagi")
    assert late.outcome == "invalid_slot"
    on_time: Ticket | None = (await registry.book(nik(0), "PKM-01", days[0], "pagi")).ticket
    assert on_time is not None and on_time.day == date(2021, 1, 15)


async def test_a_seat_is_taken_once_per_holder(backend: Backend) -> None:
    seats = backend.stores.facilities
    seat = Seat("PKM-X", DAY, "pagi", capacity=2)
    assert await seats.take_seat(seat, "a|1") and await seats.take_seat(seat, "a|1")  # held
    assert await seats.take_seat(seat, "b|1")
    assert not await seats.take_seat(seat, "c|1")  # full
    assert await seats.seats_booked("PKM-X", [DAY]) == [{"pagi": 2}]
    assert await seats.release_seat("PKM-X", DAY, "a|1")
    assert not await seats.release_seat("PKM-X", DAY, "a|1")  # given back already
    assert not await seats.release_seat("PKM-X", DAY, "nobody|1")
    assert await seats.take_seat(seat, "c|1")
    later = DAY + timedelta(days=1)
    assert (await seats.seats_booked("PKM-X", [DAY, later]))[1].get("pagi", 0) == 0
    assert await seats.booked_totals(["PKM-X", "PKM-Y"], [DAY, later]) == [2, 0]
