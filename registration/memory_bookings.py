"""Bookings and tickets in memory (:class:`BookingStore`), with the Redis scripts' rules:
one active booking per registrant, the dose and its screening, seat capacity,
idempotent same-slot booking, check-in once. Nothing is ever half done here, so
there is nothing to repair.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from registration import history
from registration.memory_data import MemoryData, StoredBooking
from registration.memory_facilities import MemoryFacilities
from registration.models import (
    FULL_COURSE,
    BookingOutcome,
    ScreeningOutcome,
    Ticket,
    TicketState,
)
from registration.stores import (
    BookAttempt,
    BookingRequest,
    CheckInMark,
    CheckInReply,
    TicketIssuer,
)

MAX_CODE_TRIES = 20


class MemoryBookings:
    def __init__(
        self, data: MemoryData, seats: MemoryFacilities, clock: Callable[[], float]
    ) -> None:
        self._data, self._seats, self._clock = data, seats, clock
        self._claims = itertools.count(1)

    def _add_history(self, nik: str, line: str) -> None:
        self._data.history[nik] = history.appended(self._data.history.get(nik, ""), line)

    def _set_state(self, booking: StoredBooking, state: TicketState) -> None:
        booking.ticket = replace(booking.ticket, state=state)
        self._data.tickets[booking.ticket.code] = booking.ticket

    def _refusal(self, request: BookingRequest) -> tuple[BookAttempt | None, int]:
        """Why the registrant cannot book this (as the CLAIM script decides), or the dose."""
        data, nik, seat = self._data, request.nik, request.seat
        if nik not in data.workers:
            return BookAttempt(BookingOutcome.NOT_ELIGIBLE), 0
        if request.phone and data.workers[nik].phone != request.phone:
            return BookAttempt(BookingOutcome.OTHER_PHONE), 0
        booking = data.bookings.get(nik)
        active = booking.ticket if booking and booking.ticket.state is TicketState.ACTIVE else None
        if active and (active.facility_id, active.day, active.session_id) == (
            seat.facility_id, seat.day, seat.session_id,
        ):  # fmt: skip
            return BookAttempt(BookingOutcome.BOOKED, active), 0
        if active and not request.reschedule:
            return BookAttempt(BookingOutcome.ALREADY_BOOKED, active), 0
        dose = active.dose if active else data.doses_done.get(nik, 0) + 1
        if dose > FULL_COURSE:  # as the CLAIM script's "done"
            return BookAttempt(BookingOutcome.COURSE_COMPLETE), 0
        screening = data.screenings.get(nik)
        if not screening or screening.result.outcome is not ScreeningOutcome.ELIGIBLE:
            return BookAttempt(BookingOutcome.NOT_ELIGIBLE), 0
        if screening.dose != dose:
            return BookAttempt(BookingOutcome.NOT_ELIGIBLE), 0
        due = data.dose2_due.get(nik)
        if dose == 2 and due is not None and seat.day < due:  # as the CLAIM script
            return BookAttempt(BookingOutcome.TOO_EARLY), 0
        return None, dose

    def _free_code(self, issuer: TicketIssuer) -> str:
        for _ in range(MAX_CODE_TRIES):
            code = issuer.new_code()
            if code not in self._data.tickets:
                return code
        raise RuntimeError(f"no free ticket code after {MAX_CODE_TRIES} tries")

    async def book(self, request: BookingRequest, issuer: TicketIssuer) -> BookAttempt:
        refusal, dose = self._refusal(request)
        if refusal is not None:
            return refusal
        nik, seat = request.nik, request.seat
        holder = f"{nik}|{next(self._claims)}"
        if not await self._seats.take_seat(seat, holder):
            return BookAttempt(BookingOutcome.FULL)
        code = self._free_code(issuer)
        payload = issuer.payload(code, seat.facility_id, seat.day, seat.session_id, dose)
        ticket = Ticket(
            code, nik, seat.facility_id, seat.day, seat.session_id, dose,
            TicketState.ACTIVE, payload,
        )  # fmt: skip
        old = self._data.bookings.get(nik)
        self._data.tickets[code] = ticket
        self._data.bookings[nik] = StoredBooking(ticket, holder)
        line = history.booked(
            self._clock(), code, seat.facility_id, seat.day, seat.session_id, dose
        )
        self._add_history(nik, line)
        if old is None or old.ticket.state is not TicketState.ACTIVE:
            return BookAttempt(BookingOutcome.BOOKED, ticket, issued=True)
        # A reschedule: the old seat goes back, the old ticket is cancelled.
        await self._seats.release_seat(old.ticket.facility_id, old.ticket.day, old.holder)
        self._set_state(old, TicketState.CANCELLED)
        return BookAttempt(BookingOutcome.BOOKED, ticket, True, old.ticket.facility_id)

    async def cancel(self, nik: str, code: str = "", phone: str = "") -> Ticket | None:
        booking, worker = self._data.bookings.get(nik), self._data.workers.get(nik)
        if booking is None or booking.ticket.state is not TicketState.ACTIVE:
            return None
        if code not in ("", booking.ticket.code):  # another ticket than the caller was shown
            return None
        if phone and (worker is None or worker.phone != phone):  # re-listed with another phone
            return None
        self._set_state(booking, TicketState.CANCELLED)
        self._add_history(nik, history.cancelled(self._clock(), booking.ticket.code))
        ticket = booking.ticket
        await self._seats.release_seat(ticket.facility_id, ticket.day, booking.holder)
        return ticket

    async def current(self, nik: str) -> Ticket | None:
        booking = self._data.bookings.get(nik)
        return booking.ticket if booking else None

    async def ticket(self, code: str) -> Ticket | None:
        ticket = self._data.tickets.get(code)
        if ticket is None or ticket.state is not TicketState.ACTIVE:
            return ticket
        booking = self._data.bookings.get(ticket.nik)
        if booking is None or booking.ticket.code != code:
            return replace(ticket, state=TicketState.CANCELLED)
        return replace(ticket, state=booking.ticket.state)

    async def check_in(self, ticket: Ticket, dose2_due: date, today: date) -> CheckInReply:
        data, nik = self._data, ticket.nik
        booking = data.bookings.get(nik)
        if booking is None or booking.ticket.code != ticket.code:
            return CheckInReply(CheckInMark.CANCELLED)
        if booking.ticket.state is TicketState.USED:
            return CheckInReply(CheckInMark.USED)
        if booking.ticket.state is not TicketState.ACTIVE:
            return CheckInReply(CheckInMark.CANCELLED)
        due = data.dose2_due.get(nik)
        if booking.ticket.dose == 2 and due is not None and today < due:  # as the script
            return CheckInReply(CheckInMark.TOO_EARLY, due)
        self._set_state(booking, TicketState.USED)
        data.doses_done[nik] = booking.ticket.dose
        if booking.ticket.dose == 1:
            data.dose2_due[nik] = dose2_due
        self._add_history(nik, history.checked_in(self._clock(), ticket.code))
        return CheckInReply(CheckInMark.OK)

    async def repair(self) -> int:
        return 0
