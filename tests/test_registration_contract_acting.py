"""Acting on a booking shown earlier: a cancel names its ticket, a phone acts only while the
registrant is listed with it.

Contract tests: each runs against the Redis stores and the memory stores.
"""

from __future__ import annotations

from datetime import date

from registration.models import BookingOutcome, TicketState
from registration.service import Registry
from tests.registry_backends import Backend
from tests.test_registration_support import load, nik, phone, screened, workers_csv

DAY, NEXT_DAY = date(2021, 1, 14), date(2021, 1, 15)
NEW_PHONE = "6281999000001"


async def relisted(registry: Registry, serial: int, new_phone: str) -> None:
    """The operator imports the worker's row again, with another phone."""
    row = f"{nik(serial)},Pekerja {serial},{new_phone},Perawat,PKM-01"
    report = await registry.import_health_workers(workers_csv(row))
    assert report.rows_bad == 0, report.errors


async def seats(registry: Registry, day: date) -> dict[str, int]:
    slots = await registry.available_slots("PKM-01")
    return {s.session_id: s.booked for s in slots if s.day == day}


async def test_a_cancel_naming_a_ticket_leaves_a_booking_moved_since(backend: Backend) -> None:
    """USSD asked "Batalkan jadwal Kam 14/01?"; the booking moved to the 15th by SMS
    meanwhile; "Ya" cancelled the booking of the 15th."""
    registry = await load(backend.registry, workers=1)
    await screened(registry, nik(0))
    shown = (await registry.book(nik(0), "PKM-01", DAY, "pagi")).ticket
    moved = (await registry.reschedule(nik(0), "PKM-01", NEXT_DAY, "siang")).ticket
    assert shown is not None and moved is not None and moved.code != shown.code
    assert await registry.cancel(nik(0), code=shown.code) is None
    status = await registry.status_by_nik(nik(0))
    assert status is not None and status.ticket == moved and moved.state is TicketState.ACTIVE
    assert await seats(registry, NEXT_DAY) == {"pagi": 0, "siang": 1}
    assert (await registry.stats())["totals"]["cancelled"] == 0
    cancelled = await registry.cancel(nik(0), code=moved.code.lower())  # as typed, any case
    assert cancelled is not None and cancelled.code == moved.code
    assert await seats(registry, NEXT_DAY) == {"pagi": 0, "siang": 0}


async def test_after_a_phone_change_the_old_phone_books_moves_and_cancels_nothing(
    backend: Backend,
) -> None:
    """An SMS conversation verified from the old phone lives a day: after the operator
    re-listed the worker with a new phone, it could still move or cancel the booking."""
    registry = await load(backend.registry, workers=2)
    await screened(registry, nik(0), nik(1))
    old = phone(0)
    booked = await registry.book(nik(0), "PKM-01", DAY, "pagi", phone=old)
    assert booked.outcome is BookingOutcome.BOOKED and booked.ticket is not None
    await relisted(registry, 0, NEW_PHONE)
    await relisted(registry, 1, NEW_PHONE)  # not booked yet: a first booking is refused too
    moved = await registry.reschedule(nik(0), "PKM-01", NEXT_DAY, "pagi", phone=old)
    assert moved.outcome is BookingOutcome.OTHER_PHONE and moved.ticket is None
    first = await registry.book(nik(1), "PKM-01", DAY, "siang", phone=old)
    assert first.outcome is BookingOutcome.OTHER_PHONE
    assert await registry.cancel(nik(0), code=booked.ticket.code, phone=old) is None
    assert await registry.cancel(nik(0), phone="not a phone") is None
    status = await registry.status_by_nik(nik(0))
    assert status is not None and status.ticket == booked.ticket
    assert await seats(registry, DAY) == {"pagi": 1, "siang": 0}
    assert await seats(registry, NEXT_DAY) == {"pagi": 0, "siang": 0}
    # The new phone acts, in any of its written forms; so does an operator (no phone).
    local_form = "0" + NEW_PHONE[2:]
    moved = await registry.reschedule(nik(0), "PKM-01", NEXT_DAY, "pagi", phone=local_form)
    assert moved.outcome is BookingOutcome.BOOKED and moved.ticket is not None
    assert (await registry.book(nik(1), "PKM-01", DAY, "siang")).outcome is BookingOutcome.BOOKED
    cancelled = await registry.cancel(nik(0), code=moved.ticket.code, phone="+" + NEW_PHONE)
    assert cancelled is not None and cancelled.code == moved.ticket.code
    assert await seats(registry, NEXT_DAY) == {"pagi": 0, "siang": 0}
