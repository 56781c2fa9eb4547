"""Who may be screened and vaccinated when: the age bands, running deferrals, dose 2's day.

Every channel gets the same answers because they all come from here (through the
Registry): the dialogue's screens, the help desk's forms, the website. Days are
the service's local dates (:class:`Calendar`).

- Screening: an age outside this phase's eligible bands (today) decides without a
  question; a deferral holds until its retry date (no screening before it).
- Booking: the registrant's age on the vaccination day must be in an eligible
  band; a dose 2 is not booked before its due date (the booking store refuses it
  too, atomically).
- Check-in of dose 1: dose 2 is due the band's interval later (age on that day).
- After the last dose (:data:`FULL_COURSE`) nothing more: no screening, no booking
  (``COURSE_COMPLETE``; the stores refuse both too, atomically).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from registration.age import AgeBands
from registration.models import (
    FULL_COURSE,
    AgeBand,
    ScreeningOutcome,
    ScreeningReason,
    ScreeningResult,
    TicketState,
)
from registration.nik import nik_problem
from registration.screening import ScreeningData
from registration.slots import Calendar
from registration.stores import RegistrantRecord

# The reason id of a screening refused because every dose of the course was given.
COURSE_COMPLETE = "course_complete"


def course_complete(record: RegistrantRecord) -> bool:
    """The last dose of the course checked in (its booking stays, used: none follows it)."""
    ticket = record.ticket
    return ticket is not None and ticket.state is TicketState.USED and ticket.dose >= FULL_COURSE


def band_result(band: AgeBand, today: date) -> ScreeningResult:
    """What a screening gives for someone in ``band`` (ELIGIBLE: go on to the questions)."""
    if band.outcome is ScreeningOutcome.ELIGIBLE:
        return ScreeningResult(band.outcome)
    deferred = band.outcome is ScreeningOutcome.DEFERRED
    retry = today + timedelta(days=band.defer_days) if deferred else None
    return ScreeningResult(band.outcome, band.band_id, retry)


def running_deferral(screening: ScreeningResult | None, today: date) -> ScreeningResult | None:
    """A stored deferral whose retry date is still to come (it holds the next screening)."""
    if screening is None or screening.outcome is not ScreeningOutcome.DEFERRED:
        return None
    return screening if screening.retry_on is not None and screening.retry_on > today else None


class Eligibility:
    def __init__(self, screening: ScreeningData, calendar: Calendar) -> None:
        self.bands: AgeBands = screening.bands
        self._groups = {g.group_id: g for g in screening.groups}
        self._today: Callable[[], date] = calendar.today

    def today(self) -> date:
        return self._today()

    def _band(self, nik: str, day: date) -> AgeBand | None:
        """The band of the age on ``day``; None for a malformed NIK (never a listed one)."""
        return self.bands.on(nik, day) if nik_problem(nik) is None else None

    def by_age(self, nik: str) -> ScreeningResult | None:
        """The outcome of a screening today when the registrant's age is outside the
        eligible bands (no question asked); None when the questions come next."""
        today = self._today()
        band = self._band(nik, today)
        result = band_result(band, today) if band is not None else None
        return None if result is None or result.outcome is ScreeningOutcome.ELIGIBLE else result

    def hold(self, record: RegistrantRecord) -> ScreeningResult | None:
        """Why the registrant cannot be screened now, as a screening would answer: every dose
        given, then a running deferral (the store keeps it whatever a new screening would say),
        then the age."""
        if course_complete(record):
            return ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, COURSE_COMPLETE)
        return running_deferral(record.screening, self._today()) or self.by_age(record.worker.nik)

    def may_book(self, nik: str, day: date, dose2_due: date | None = None) -> bool:
        """Age on ``day`` in an eligible band, and not before a dose-2 due date."""
        return day in self.bookable_days(nik, (day,), dose2_due)

    def bookable_days(
        self, nik: str, days: Iterable[date], dose2_due: date | None = None
    ) -> set[date]:
        """The days of ``days`` :meth:`may_book` allows, the NIK checked once (a list of
        times asks about every day of the window)."""
        on, eligible = self.bands.on, ScreeningOutcome.ELIGIBLE
        days = tuple(day for day in days if dose2_due is None or day >= dose2_due)
        if not days or nik_problem(nik) is not None:
            return set(days)  # a malformed NIK has no band (never a listed one)
        if (max(days) - min(days)).days < 365:
            # Age only grows within a year, and bands are runs of ages: one band at both
            # ends is the band of every day between (the usual two-week window).
            first = on(nik, min(days))
            if first is on(nik, max(days)):
                return set(days) if first.outcome is eligible else set()
        return {day for day in days if on(nik, day).outcome is eligible}

    def dose2_due(self, nik: str, dose1_day: date) -> date:
        """Dose 2's first day: the interval of the age band on the day of dose 1."""
        return dose1_day + timedelta(days=self.bands.on(nik, dose1_day).dose_interval_days)

    def reason(self, reason_id: str) -> ScreeningReason | None:
        """The texts of a screening group or an age band, by the id a result carries."""
        group = self._groups.get(reason_id)
        if group is not None:
            return ScreeningReason(group.reason, group.advice)
        band = self.bands.by_id(reason_id)
        if band is not None and band.reason:
            return ScreeningReason(band.reason, band.advice)
        return None
