"""Facilities and seats in memory (:class:`FacilityStore`), as Redis keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from registration.memory_data import MemoryData
from registration.models import Facility
from registration.stores import Seat


class MemoryFacilities:
    def __init__(self, data: MemoryData) -> None:
        self._data = data

    async def version(self) -> str | None:
        return str(self._data.facilities_version) if self._data.facilities_version else None

    async def load(self) -> tuple[str | None, list[Facility]]:
        return await self.version(), list(self._data.facilities.values())

    async def seats_booked(self, facility_id: str, days: Sequence[date]) -> list[dict[str, int]]:
        return [dict(self._data.taken.get((facility_id, day), {})) for day in days]

    async def booked_totals(self, facility_ids: Sequence[str], days: Sequence[date]) -> list[int]:
        taken = self._data.taken
        return [sum(sum(taken.get((f, d), {}).values()) for d in days) for f in facility_ids]

    async def take_seat(self, seat: Seat, holder: str) -> bool:
        slot = (seat.facility_id, seat.day)
        holders = self._data.holders.setdefault(slot, {})
        if holder in holders:
            return True
        taken = self._data.taken.setdefault(slot, {})
        if taken.get(seat.session_id, 0) >= seat.capacity:
            return False
        taken[seat.session_id] = taken.get(seat.session_id, 0) + 1
        holders[holder] = seat.session_id
        return True

    async def release_seat(self, facility_id: str, day: date, holder: str) -> bool:
        session = self._data.holders.get((facility_id, day), {}).pop(holder, None)
        if session is None:
            return False
        self._data.taken[facility_id, day][session] -= 1
        return True
