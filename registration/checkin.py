"""Check-in at the facility: a scanned QR payload, or a bare code typed by an operator.

A payload must carry a valid signature and match the stored ticket field for
field (else FORGED). A bare code has no signature to check, so it is accepted
(VALID, and checked in) only while the ticket is active: operators use it when a
phone cannot show the QR, after checking the person's identity card. Text that is
not printable ASCII is never a payload or a code (FORGED or UNKNOWN, no error).

A ticket checks in only at its own facility (else WRONG_FACILITY) and on its own
day, give or take ``check_in_tolerance_days`` (local dates; else WRONG_DAY); a
used or cancelled ticket says so first. A dose 1 checked in today makes dose 2
due the interval of the registrant's age band later (see registration.eligibility).
A dose 2 is not given before that due date, whatever the tolerance (TOO_EARLY, with
the date): the booking store refuses such a day, and its check-in refuses it too,
atomically with the due date it reads (a tolerance of days would let it through).
"""

from __future__ import annotations

from dataclasses import replace

from registration import stats
from registration.eligibility import Eligibility
from registration.facilities import FacilityDirectory
from registration.models import CheckInOutcome, CheckInResult, Ticket, TicketState
from registration.rules import Rules
from registration.stores import BookingStore, CheckInMark, StatsStore
from registration.tickets import is_payload, matches


class CheckIn:
    def __init__(
        self,
        bookings: BookingStore,
        counters: StatsStore,
        directory: FacilityDirectory,
        rules: Rules,
        eligibility: Eligibility,
    ) -> None:
        self._bookings, self._counters, self._dir = bookings, counters, directory
        self._signer, self._eligibility = rules.signer, eligibility
        self._tolerance = rules.check_in_tolerance_days

    async def _scanned(self, text: str) -> Ticket | CheckInOutcome:
        """The ticket a payload or a bare code names, or why there is none to check in."""
        if is_payload(text):
            fields = self._signer.verify(text) if text.isascii() else None
            if fields is None:
                return CheckInOutcome.FORGED
            ticket = await self._bookings.ticket(fields.code)
            if ticket is None:
                return CheckInOutcome.UNKNOWN
            return ticket if matches(ticket, fields) else CheckInOutcome.FORGED
        code = text.upper().replace(" ", "").replace("-", "")
        if not (code.isascii() and self._signer.looks_like_code(code)):
            return CheckInOutcome.UNKNOWN
        ticket = await self._bookings.ticket(code)
        return ticket if ticket is not None else CheckInOutcome.UNKNOWN

    def _misplaced(self, ticket: Ticket, facility_id: str) -> CheckInOutcome | None:
        """WRONG_FACILITY or WRONG_DAY when the ticket is not for here and now."""
        if ticket.facility_id != facility_id:
            return CheckInOutcome.WRONG_FACILITY
        if abs((ticket.day - self._eligibility.today()).days) > self._tolerance:
            return CheckInOutcome.WRONG_DAY
        return None

    async def check_in(self, payload_or_code: str, facility_id: str) -> CheckInResult:
        ticket = await self._scanned(payload_or_code.strip())
        if isinstance(ticket, CheckInOutcome):
            return CheckInResult(ticket)
        if ticket.state is TicketState.USED:
            return CheckInResult(CheckInOutcome.ALREADY_USED, ticket)
        if ticket.state is TicketState.CANCELLED:
            return CheckInResult(CheckInOutcome.CANCELLED, ticket)
        misplaced = self._misplaced(ticket, facility_id.strip())
        if misplaced is not None:
            return CheckInResult(misplaced, ticket)
        today = self._eligibility.today()
        due = self._eligibility.dose2_due(ticket.nik, today)
        reply = await self._bookings.check_in(ticket, due, today)
        mark = reply.mark
        if mark is CheckInMark.TOO_EARLY:
            return CheckInResult(CheckInOutcome.TOO_EARLY, ticket, reply.dose2_due)
        if mark is CheckInMark.USED:
            return CheckInResult(
                CheckInOutcome.ALREADY_USED, replace(ticket, state=TicketState.USED)
            )
        if mark is not CheckInMark.OK:
            gone = replace(ticket, state=TicketState.CANCELLED)
            return CheckInResult(CheckInOutcome.CANCELLED, gone)
        await self._counters.count(self._dir.regency_of(ticket.facility_id), stats.CHECKED_IN)
        used = replace(ticket, state=TicketState.USED)
        return CheckInResult(CheckInOutcome.VALID, used, due if ticket.dose == 1 else None)
