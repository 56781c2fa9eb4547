"""The operator's facility overview: capacity and seats booked over the booking window."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from registration.models import Facility
from registration.slots import Calendar
from registration.stores import FacilityStore

CHUNK = 500  # facilities per store read


class FacilityLoad(TypedDict):
    facility_id: str
    name: str
    regency: str
    daily_capacity: int
    window_days: int
    capacity: int  # seats over the window, as the sessions share them out
    booked: int  # seats taken over the window


async def facility_overview(
    store: FacilityStore, calendar: Calendar, facilities: list[Facility], days: list[date]
) -> list[FacilityLoad]:
    rows: list[FacilityLoad] = []
    for start in range(0, len(facilities), CHUNK):
        chunk = facilities[start : start + CHUNK]
        totals = await store.booked_totals([f.facility_id for f in chunk], days)
        for facility, booked in zip(chunk, totals, strict=True):
            rows.append(
                {
                    "facility_id": facility.facility_id,
                    "name": facility.name,
                    "regency": facility.regency,
                    "daily_capacity": facility.daily_capacity,
                    "window_days": len(days),
                    "capacity": calendar.daily_capacity(facility) * len(days),
                    "booked": booked,
                }
            )
    return rows
