"""Who a blast reaches: "only unregistered" leaves out those holding a booking or having
used one, whatever the booking held now.

Contract tests: each runs against the Redis stores and the memory stores.
"""

from __future__ import annotations

from datetime import date

from registration.models import BookingOutcome, CheckInOutcome
from registration.service import Registry
from tests.registry_backends import Backend
from tests.test_registration_support import load, nik, screened

DAY = date(2021, 1, 14)  # tomorrow on the backends' clock
DUE = date(2021, 1, 28)  # dose 2 of a dose 1 checked in on DAY
DAY_SECONDS = 24 * 3600


async def chosen(registry: Registry, only_unregistered: bool) -> set[str]:
    found: set[str] = set()
    async for batch in registry.recipients({}, only_unregistered):
        found.update(r.nik for r in batch)
    return found


async def book(registry: Registry, who: str, day: date, session: str) -> str:
    await screened(registry, who)
    result = await registry.book(who, "PKM-01", day, session)
    assert result.outcome is BookingOutcome.BOOKED and result.ticket
    return result.ticket.payload


async def test_a_dose_checked_in_is_registered_even_after_a_cancelled_dose_2(
    backend: Backend,
) -> None:
    registry = await load(backend.registry, workers=4)
    dose1 = await book(registry, nik(0), DAY, "pagi")
    backend.clock.advance(DAY_SECONDS)
    assert (await registry.check_in(dose1, facility_id="PKM-01")).outcome is CheckInOutcome.VALID
    await book(registry, nik(0), DUE, "siang")  # dose 2 booked, then cancelled
    assert await registry.cancel(nik(0)) is not None
    await book(registry, nik(1), DUE, "pagi")  # booked, never used, cancelled
    assert await registry.cancel(nik(1)) is not None
    await book(registry, nik(2), DUE, "pagi")  # holds an active booking
    assert await chosen(registry, only_unregistered=True) == {nik(1), nik(3)}
    assert await chosen(registry, only_unregistered=False) == {nik(i) for i in range(4)}
