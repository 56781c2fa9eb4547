"""The booking calendar: which days are bookable, the sessions of a day and their seats.

Dates are the service's local dates (``[service] utc_offset_hours``, WIB = UTC+7):
"tomorrow" starts at local midnight, not at UTC midnight.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone

from registration.models import Facility, SlotAvailability
from registration.settings import Session
from registration.stores import Seat


def local_today(now: float, utc_offset_hours: float) -> date:
    return datetime.fromtimestamp(now, timezone(timedelta(hours=utc_offset_hours))).date()


def window_days(today: date, window: int, closed_weekdays: Sequence[int]) -> list[date]:
    """Bookable days: tomorrow onwards for ``window`` calendar days, closed weekdays skipped."""
    days = (today + timedelta(days=offset) for offset in range(1, window + 1))
    return [d for d in days if d.isoweekday() not in closed_weekdays]


def session_capacities(daily_capacity: int, sessions: Sequence[Session]) -> dict[str, int]:
    """Split the day's capacity evenly; the remainder goes to the first session."""
    share, remainder = divmod(max(daily_capacity, 0), len(sessions))
    return {s.session_id: share + (remainder if i == 0 else 0) for i, s in enumerate(sessions)}


class Calendar:
    """The booking window and sessions, on the service's clock and UTC offset."""

    def __init__(
        self,
        sessions: list[Session],
        window_days: int,
        closed_weekdays: Sequence[int],
        utc_offset_hours: float,
        clock: Callable[[], float],
    ) -> None:
        self.sessions = sessions
        self._labels = {s.session_id: s.label for s in sessions}
        self._window, self._closed = window_days, list(closed_weekdays)
        self._offset, self._clock = utc_offset_hours, clock
        self._days: tuple[date, list[date]] | None = None
        # Today's date per whole second of the clock: a Registry hop asks for it several
        # times, at about 2 µs each (a datetime and a timezone made every time).
        self._today: tuple[int, date] | None = None

    def today(self) -> date:
        now = self._clock()
        second = int(now)  # a local midnight falls on a whole second
        if self._today is None or self._today[0] != second:
            self._today = (second, local_today(now, self._offset))
        return self._today[1]

    def window(self) -> list[date]:
        """Today's bookable days (one list per day, shared: do not change it)."""
        today = self.today()
        if self._days is None or self._days[0] != today:
            self._days = (today, window_days(today, self._window, self._closed))
        return self._days[1]

    def label(self, session_id: str) -> str | None:
        return self._labels.get(session_id)

    def seat(self, facility: Facility, day: date, session_id: str) -> Seat | None:
        """The seat to book, or None when the session or the day is not bookable."""
        if session_id not in self._labels or day not in self.window():
            return None
        capacity = session_capacities(facility.daily_capacity, self.sessions)[session_id]
        return Seat(facility.facility_id, day, session_id, capacity)

    def daily_capacity(self, facility: Facility) -> int:
        """Seats a day, as the sessions share them out."""
        return sum(session_capacities(facility.daily_capacity, self.sessions).values())

    def availability(
        self, facility: Facility, days: list[date], booked_by_day: list[dict[str, int]]
    ) -> list[SlotAvailability]:
        capacities = session_capacities(facility.daily_capacity, self.sessions)
        return [
            SlotAvailability(
                facility_id=facility.facility_id,
                day=day,
                session_id=session.session_id,
                label=session.label,
                capacity=capacities[session.session_id],
                booked=booked.get(session.session_id, 0),
            )
            for day, booked in zip(days, booked_by_day, strict=True)
            for session in self.sessions
        ]
