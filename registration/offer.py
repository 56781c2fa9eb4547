"""The times offered: a facility's seats over the booking window, and a registrant's own days.

For a registrant (what a channel offers them) only the days they may book are
offered (registration.eligibility: the age band on the day, not before a dose-2 due
date), and the seat counts may be a second old: they are cached per facility (a
booking takes its seat atomically whatever the list showed; a FULL answer drops the
entry). The due date comes along with the screening's script reply and stands in
for the same hop, since the times are asked for right after it; otherwise it is
read together with the seats. A registration's list of times thus costs no round
trip when another registrant of the facility was shown one within the second, as
the dialogue's own cache did before. Without a registrant: fresh counts, every day.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date

from registration.eligibility import Eligibility
from registration.facilities import FacilityDirectory
from registration.models import SlotAvailability
from registration.slots import Calendar
from registration.stores import FacilityStore, RegistrantStore

SEATS_SECONDS = 1.0  # seat counts offered are at most a second old
HINT_SECONDS = 0.5  # a dose-2 due date read by the screening stands in within one hop
MAX_ENTRIES = 5000  # entries kept before expired ones are swept


class SlotOffer:
    def __init__(
        self,
        facilities: FacilityStore,
        registrants: RegistrantStore,
        directory: FacilityDirectory,
        calendar: Calendar,
        eligibility: Eligibility,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._facilities, self._registrants = facilities, registrants
        self._dir, self._calendar, self._eligibility = directory, calendar, eligibility
        self._monotonic = monotonic
        self._seats: dict[tuple[str, date], tuple[float, list[SlotAvailability]]] = {}
        self._due: dict[str, tuple[float, date | None]] = {}

    def hint(self, nik: str, dose2_due: date | None) -> None:
        """The registrant's dose-2 due date as just read (by the screening script)."""
        self._due[nik] = (self._monotonic() + HINT_SECONDS, dose2_due)
        self._sweep(self._due)

    def forget(self, facility_id: str) -> None:
        """A booking found a session full: the next list shows fresh counts."""
        self._seats = {k: v for k, v in self._seats.items() if k[0] != facility_id}

    def _sweep(self, entries: dict) -> None:  # type: ignore[type-arg]
        if len(entries) > MAX_ENTRIES:
            now = self._monotonic()
            for key in [k for k, (until, _) in entries.items() if until <= now]:
                del entries[key]

    def _fresh(self, facility_id: str, days: list[date]) -> list[SlotAvailability] | None:
        hit = self._seats.get((facility_id, days[0] if days else date.min))
        return hit[1] if hit is not None and hit[0] > self._monotonic() else None

    async def _offered(self, facility_id: str, days: list[date]) -> list[SlotAvailability]:
        """The facility's times with their seat counts, kept for ``SEATS_SECONDS``: every
        registrant of the facility shown a list within that second shares one read."""
        booked = await self._facilities.seats_booked(facility_id, days)
        offered = await self._availability(facility_id, days, booked)
        key = (facility_id, days[0] if days else date.min)
        self._seats[key] = (self._monotonic() + SEATS_SECONDS, offered)
        self._sweep(self._seats)
        return offered

    async def _availability(
        self, facility_id: str, days: list[date], booked: list[dict[str, int]]
    ) -> list[SlotAvailability]:
        await self._dir.ensure_recent()
        facility = self._dir.get(facility_id)
        return [] if facility is None else self._calendar.availability(facility, days, booked)

    def _hinted_due(self, nik: str) -> date | _Unknown | None:
        hint = self._due.pop(nik, None)
        return hint[1] if hint is not None and hint[0] > self._monotonic() else _UNKNOWN

    async def _read_due(self, nik: str) -> date | None:
        record = await self._registrants.record(nik)
        return record.dose2_due if record is not None else None

    async def slots(self, facility_id: str, nik: str = "") -> list[SlotAvailability]:
        days = self._calendar.window()
        if not nik:
            booked = await self._facilities.seats_booked(facility_id, days)
            return await self._availability(facility_id, days, booked)
        # Usually both are at hand (the seats shown within the second, the due date from
        # the screening): no task, no round trip. Two reads go out together.
        offered, due = self._fresh(facility_id, days), self._hinted_due(nik)
        if offered is None and isinstance(due, _Unknown):
            offered, due = await asyncio.gather(
                self._offered(facility_id, days), self._read_due(nik)
            )
        elif offered is None:
            offered = await self._offered(facility_id, days)
        elif isinstance(due, _Unknown):
            due = await self._read_due(nik)
        assert not isinstance(due, _Unknown)
        # Decided per day, not per (day, session): the age on a day is the same all day.
        allowed = self._eligibility.bookable_days(nik, days, due)
        return [s for s in offered if s.day in allowed]


class _Unknown:
    """No dose-2 due date at hand (None is a known answer: no dose 2 due)."""


_UNKNOWN = _Unknown()
