"""The course of doses: dose 2 not given before its due date (whatever the check-in
tolerance), nothing more after the last dose.

Contract tests: each runs against the Redis stores and the memory stores. Today is
13 January 2021 (WIB) on the backends' clock.
"""

from __future__ import annotations

from datetime import date

from registration.models import CheckInOutcome, ScreeningOutcome, ScreeningResult, Ticket
from registration.service import Registry
from tests.conftest import make_test_config
from tests.registry_backends import Backend
from tests.test_registration_contract_tickets import DAY, DAY_SECONDS, DUE, booked
from tests.test_registration_support import load, nik

COMPLETE = ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, "course_complete")


async def dose1_given(backend: Backend, registry: Registry, who: str) -> Ticket:
    """Dose 1 booked for the 14th and checked in on that day: dose 2 is due on the 28th."""
    ticket = await booked(registry, who, day=DAY)
    backend.clock.advance(DAY_SECONDS)
    checked = await registry.check_in(ticket.payload, facility_id="PKM-01")
    assert checked.outcome is CheckInOutcome.VALID and checked.dose2_due == DUE
    return ticket


async def test_a_dose_2_is_not_checked_in_before_its_due_date_whatever_the_tolerance(
    backend: Backend, key_prefix: str
) -> None:
    """With a tolerance of 14 days a dose 2 checked in as valid on the day of dose 1."""
    config = make_test_config(key_prefix, **{"registration.check_in_tolerance_days": 14})
    registry = await load(backend.reconfigured(config), workers=1)
    await dose1_given(backend, registry, nik(0))  # today: the 14th
    dose2 = await booked(registry, nik(0), day=DUE)  # the due date: a booking may say so
    for scanned in (dose2.payload, dose2.code):  # the same day as dose 1: 14 days early
        early = await registry.check_in(scanned, facility_id="PKM-01")
        assert early.outcome == "too_early"  # CheckInOutcome.TOO_EARLY
        assert early.dose2_due == DUE and early.ticket == dose2  # the date to come back
    backend.clock.advance(13 * DAY_SECONDS)  # the 27th: still one day early
    assert (await registry.check_in(dose2.code, facility_id="PKM-01")).outcome == "too_early"
    status = await registry.status_by_nik(nik(0))
    assert status and status.ticket == dose2 and status.ticket.state == "active"  # not used
    assert [line.split(" ")[1] for line in status.history] == ["booked", "checked", "booked"]
    assert (await registry.stats())["totals"]["checked_in"] == 1
    backend.clock.advance(DAY_SECONDS)  # the 28th: due
    on_time = await registry.check_in(dose2.payload, facility_id="PKM-01")
    assert on_time.outcome is CheckInOutcome.VALID and on_time.dose2_due is None
    assert (await registry.stats())["totals"]["checked_in"] == 2


async def test_after_the_last_dose_nothing_is_screened_or_booked(backend: Backend) -> None:
    """A fully vaccinated person was screened for dose 3 (stored, counted) and a booking
    then said "already booked" with the used ticket."""
    registry = await load(backend.registry, workers=1)
    await dose1_given(backend, registry, nik(0))
    dose2 = await booked(registry, nik(0), day=DUE)
    backend.clock.advance(14 * DAY_SECONDS)
    assert (await registry.check_in(dose2.code, facility_id="PKM-01")).outcome == "valid"
    before = (await registry.stats())["totals"]
    status = await registry.status_by_nik(nik(0))
    assert status and status.hold == COMPLETE  # known before any question, on every channel
    assert await registry.screening_hold(nik(0)) == COMPLETE
    groups = registry.screening_groups()
    for answers in ({g.group_id: False for g in groups}, {groups[0].group_id: True}):
        assert await registry.record_screening(nik(0), answers) == COMPLETE
    status = await registry.status_by_nik(nik(0))
    assert status and status.screening == ScreeningResult(ScreeningOutcome.ELIGIBLE)  # dose 2's
    assert (await registry.stats())["totals"] == before  # nothing recorded, nothing counted
    third = await registry.book(nik(0), "PKM-01", date(2021, 1, 29), "pagi")
    assert third.outcome == "course_complete" and third.ticket is None  # COURSE_COMPLETE
    status = await registry.status_by_nik(nik(0))
    assert status and status.ticket == (await registry.ticket(dose2.code))  # the used dose 2
