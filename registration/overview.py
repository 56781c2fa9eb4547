"""The operator's facility overview: capacity and seats booked over the booking window."""

from __future__ import annotations

from datetime import date
from typing import Any

import redis.asyncio as aioredis

from core import redis_scripts as lua
from registration.models import Facility
from registration.slots import SeatBook, session_capacities

CHUNK = 500  # facilities per pipeline (one script call each)


async def facility_overview(
    redis: aioredis.Redis, seats: SeatBook, facilities: list[Facility], days: list[date]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for start in range(0, len(facilities), CHUNK):
        chunk = facilities[start : start + CHUNK]

        def build(pipe: Any, chunk: list[Facility] = chunk) -> None:
            for facility in chunk:
                seats.queue_read(pipe, facility.facility_id, days)

        replies = await lua.run(redis, [seats.read_script], build)
        for facility, per_day in zip(chunk, replies, strict=True):
            booked = sum(int(v) for flat in per_day for v in flat[1::2])
            daily = sum(session_capacities(facility.daily_capacity, seats.sessions).values())
            rows.append(
                {
                    "facility_id": facility.facility_id,
                    "name": facility.name,
                    "regency": facility.regency,
                    "daily_capacity": facility.daily_capacity,
                    "window_days": len(days),
                    "capacity": daily * len(days),
                    "booked": booked,
                }
            )
    return rows
