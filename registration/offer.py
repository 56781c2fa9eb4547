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
        self._seats: dict[tuple[str, date], tuple[float, list[dict[str, int]]]] = {}
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

    async def _cached(self, facility_id: str, days: list[date]) -> list[dict[str, int]]:
        key, now = (facility_id, days[0] if days else date.min), self._monotonic()
        hit = self._seats.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        booked = await self._facilities.seats_booked(facility_id, days)
        self._seats[key] = (now + SEATS_SECONDS, booked)
        self._sweep(self._seats)
        return booked

    async def _dose2_due(self, nik: str) -> date | None:
        hint = self._due.pop(nik, None)
        if hint is not None and hint[0] > self._monotonic():
            return hint[1]
        record = await self._registrants.record(nik)
        return record.dose2_due if record is not None else None

    async def slots(self, facility_id: str, nik: str = "") -> list[SlotAvailability]:
        days = self._calendar.window()
        if nik:
            booked, due = await asyncio.gather(
                self._cached(facility_id, days), self._dose2_due(nik)
            )
        else:
            booked, due = await self._facilities.seats_booked(facility_id, days), None
        await self._dir.ensure_recent()
        facility = self._dir.get(facility_id)
        if facility is None:
            return []
        slots = self._calendar.availability(facility, days, booked)
        if not nik:
            return slots
        # Decided per day, not per (day, session): the age on a day is the same all day.
        may_book = self._eligibility.may_book
        allowed = {day: may_book(nik, day, due) for day in days}
        return [s for s in slots if allowed[s.day]]
