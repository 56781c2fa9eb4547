"""A screening answered late, after a booking was made elsewhere, must not undo it.

Contract tests: each runs against the Redis stores and the memory stores.
"""

from __future__ import annotations

from datetime import date

from registration.models import (
    BookingOutcome,
    ScreeningOutcome,
    ScreeningResult,
    TicketState,
)
from registration.screening_record import ALREADY_BOOKED
from tests.registry_backends import Backend
from tests.test_registration_support import load, nik, screened


async def test_a_late_screening_does_not_touch_an_active_booking(backend: Backend) -> None:
    """A USSD session left at screening question 2, answered "yes" after the same person
    booked by SMS, used to store "not eligible" under a ticket that stayed valid."""
    registry = backend.registry
    await load(registry, workers=1)
    who = nik(0)
    await screened(registry, who)
    booked = await registry.book(who, "PKM-01", date(2021, 1, 14), "pagi")
    assert booked.outcome is BookingOutcome.BOOKED and booked.ticket is not None
    eligible = ScreeningResult(ScreeningOutcome.ELIGIBLE)
    first_group = registry.screening_groups()[0].group_id
    late = await registry.record_screening(who, {first_group: True})
    assert (late.outcome, late.reason_id) == (ScreeningOutcome.NOT_ELIGIBLE, ALREADY_BOOKED)
    status = await registry.status_by_nik(who)
    assert status is not None and status.screening == eligible  # nothing stored
    assert status.ticket is not None and status.ticket.state is TicketState.ACTIVE
    totals = (await registry.stats())["totals"]
    assert (totals["screened"], totals["not_eligible"]) == (1, 0)  # not counted either
    # Once the booking is cancelled, a new screening is recorded as before.
    await registry.cancel(who)
    again = await registry.record_screening(who, {first_group: True})
    assert again.outcome is not ScreeningOutcome.ELIGIBLE and again.reason_id == first_group
