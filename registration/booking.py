"""Booking, rescheduling and cancelling: the rules around the booking store.

The domain decides whether a slot can be booked at all (a known facility, a
session of the day, a day inside the booking window, the registrant's age on
that day in an eligible band: else NOT_ELIGIBLE) and what a session holds;
the store takes the seat and issues the ticket all or nothing (see
:meth:`BookingStore.book`; in Redis a claim on the registrant, then the seat,
then the ticket, then a confirmation; a dose 2 before its due date is TOO_EARLY,
decided there). A booking of the same person already in
flight makes this one wait for it, at most the claim timeout (plus a grace
period for clock skew between processes), then answer with the booking there is.

A channel acts for a phone (``phone``): a session verified the NIK from that phone
and may outlive the registrant's listing with it (an operator re-imports the row with
a new phone while the old phone's SMS conversation lives on for a day). The stores
book, move and cancel only while the registrant is still listed with that phone,
checked inside the step that changes the booking (a field read in the Redis scripts).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import date

from core.phone import normalise_phone
from registration import stats
from registration.eligibility import Eligibility
from registration.facilities import FacilityDirectory
from registration.models import BookingOutcome, BookingResult, Ticket
from registration.rules import Rules
from registration.stores import (
    CLAIM_GRACE_SECONDS,
    BookAttempt,
    BookingRequest,
    BookingStore,
    StatsStore,
)

BUSY_WAIT = 0.05  # a second confirmation of the same person waits for the first

log = logging.getLogger(__name__)


class Booker:
    def __init__(
        self,
        bookings: BookingStore,
        counters: StatsStore,
        directory: FacilityDirectory,
        rules: Rules,
        eligibility: Eligibility,
    ) -> None:
        self._bookings, self._counters, self._dir = bookings, counters, directory
        self._calendar, self._issuer = rules.calendar, rules.signer
        self._eligibility = eligibility
        self._claim_seconds = rules.claim_timeout_seconds

    async def book(
        self,
        nik: str,
        facility_id: str,
        day: date,
        session_id: str,
        *,
        reschedule: bool = False,
        phone: str = "",
    ) -> BookingResult:
        acting = acting_phone(phone)
        if acting is None:
            return BookingResult(BookingOutcome.OTHER_PHONE)
        await self._dir.ensure_recent()
        facility = self._dir.get(facility_id)
        seat = self._calendar.seat(facility, day, session_id) if facility else None
        if seat is None:
            return BookingResult(BookingOutcome.INVALID_SLOT)
        if not self._eligibility.may_book(nik, day):  # too young or too old on that day
            return BookingResult(BookingOutcome.NOT_ELIGIBLE)
        request = BookingRequest(nik, seat, reschedule, self._claim_seconds, acting)
        # Real time, not the injectable clock: this bounds how long we wait, not a date.
        give_up = time.monotonic() + self._claim_seconds + CLAIM_GRACE_SECONDS
        while True:
            attempt = await self._bookings.book(request, self._issuer)
            if attempt.outcome is not None:
                break
            if time.monotonic() > give_up:  # another booking of this person never finished
                current = await self._bookings.current(nik)
                return BookingResult(BookingOutcome.ALREADY_BOOKED, current)
            await asyncio.sleep(BUSY_WAIT)
        if attempt.issued:
            await self._count_booked(attempt)
        return BookingResult(attempt.outcome, attempt.ticket)

    async def _count_booked(self, attempt: BookAttempt) -> None:
        if attempt.ticket is not None:
            regency = self._dir.regency_of(attempt.ticket.facility_id)
            await self._counters.count(regency, stats.BOOKED)
        if attempt.replaced_facility:
            regency = self._dir.regency_of(attempt.replaced_facility)
            await self._counters.count(regency, stats.REPLACED)

    async def cancel(self, nik: str, code: str = "", phone: str = "") -> Ticket | None:
        acting = acting_phone(phone)
        if acting is None:
            return None
        ticket = await self._bookings.cancel(nik, code.strip().upper(), acting)
        if ticket is not None:
            await self._counters.count(self._dir.regency_of(ticket.facility_id), stats.CANCELLED)
        return ticket


def acting_phone(phone: str) -> str | None:
    """The phone a channel acts for, as the registry keeps it (62...); "" when none is given
    (an operator acts: nothing to check); None when it is no phone (nobody is listed)."""
    if not phone:
        return ""
    normalised = normalise_phone(phone)
    return normalised.value if normalised.ok else None


async def repair_forever(
    repair: Callable[[], Awaitable[int]],
    transient_errors: tuple[type[Exception], ...],
    interval_seconds: float,
) -> None:
    """Give back seats of interrupted bookings every ``interval_seconds``, forever."""
    while True:
        try:
            freed = await repair()
            if freed:
                log.warning("gave back %d seat(s) held by interrupted bookings", freed)
        except transient_errors as exc:  # storage away: try later
            log.warning("booking repair failed: %s", exc)
        await asyncio.sleep(interval_seconds)
