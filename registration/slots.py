"""The booking window and seat counting per facility, day and session.

Seats live in facility-tagged keys (``{f:<facility_id>}``): a counter hash per
day (session -> seats taken) and a holders hash per day ("<nik>|<claim_id>" ->
session). Taking and giving back a seat are Lua scripts on those two keys, both
idempotent per holder, so a retried or repaired step never counts twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import redis.asyncio as aioredis

from core import redis_scripts as lua
from core.redis_lean import Call, FastRedis
from registration.keys import RegistryKeys
from registration.models import Facility, SlotAvailability
from registration.records import day_key
from registration.settings import Session

# KEYS: booked, holders. ARGV: session, capacity, holder. -> 1 taken (or already held), 0 full.
TAKE_SEAT_LUA = """
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then return 1 end
local n = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if n >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

# KEYS: booked, holders. ARGV: holder. -> 1 released, 0 nothing held.
RELEASE_SEAT_LUA = """
local s = redis.call('HGET', KEYS[2], ARGV[1])
if not s then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], s, -1)
return 1
"""

# KEYS: the booked hashes of one facility's days -> one flat HGETALL reply per day.
# One command instead of one per day: the USSD hot path pays per command in Python.
READ_DAYS_LUA = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out
"""


def local_today(now: float, utc_offset_hours: float) -> date:
    return datetime.fromtimestamp(now, timezone(timedelta(hours=utc_offset_hours))).date()


def window_days(today: date, window: int, closed_weekdays: list[int]) -> list[date]:
    """Bookable days: tomorrow onwards for ``window`` calendar days, closed weekdays skipped."""
    days = (today + timedelta(days=offset) for offset in range(1, window + 1))
    return [d for d in days if d.isoweekday() not in closed_weekdays]


def session_capacities(daily_capacity: int, sessions: list[Session]) -> dict[str, int]:
    """Split the day's capacity evenly; the remainder goes to the first session."""
    share, remainder = divmod(max(daily_capacity, 0), len(sessions))
    return {s.session_id: share + (remainder if i == 0 else 0) for i, s in enumerate(sessions)}


class SeatBook:
    """Seat scripts run over the lean client; ``queue_read`` serves redis-py pipelines."""

    def __init__(
        self, redis: aioredis.Redis, fast: FastRedis, keys: RegistryKeys, sessions: list[Session]
    ) -> None:
        self._redis, self._fast, self._keys, self.sessions = redis, fast, keys, sessions
        self._labels = {s.session_id: s.label for s in sessions}
        self._take = redis.register_script(TAKE_SEAT_LUA)
        self._release = redis.register_script(RELEASE_SEAT_LUA)
        self._read_days = redis.register_script(READ_DAYS_LUA)
        fast.register(self._take, self._release, self._read_days)

    def queue_read(self, pipe: Any, facility_id: str, days: list[date]) -> None:
        """Queue the same read on a pipeline run with :func:`core.redis_scripts.run`."""
        keys = [self._keys.slot_booked(facility_id, day_key(d)) for d in days]
        lua.queue(pipe, self._read_days, keys, [])

    @property
    def read_script(self) -> Any:
        return self._read_days

    async def read(self, facility_id: str, days: list[date]) -> list[dict[str, str]]:
        """Seats taken per session for each of ``days``: one command."""
        keys = [self._keys.slot_booked(facility_id, day_key(d)) for d in days]
        return decode_days(await self._fast.evalsha(self._read_days, keys, ()))

    def label(self, session_id: str) -> str | None:
        return self._labels.get(session_id)

    def seat_keys(self, facility_id: str, day: str) -> list[str]:
        return [self._keys.slot_booked(facility_id, day), self._keys.slot_holders(facility_id, day)]

    def take_call(self, facility: Facility, day: date, session_id: str, holder: str) -> Call:
        """The seat-taking script for a batch; its reply is 1 taken (or already held), 0 full."""
        capacity = session_capacities(facility.daily_capacity, self.sessions)[session_id]
        keys = self.seat_keys(facility.facility_id, day_key(day))
        return Call(self._take, keys, (session_id, capacity, holder))

    def release_call(self, facility_id: str, day: str, holder: str) -> Call:
        """The seat-release script for a batch; its reply is 1 released, 0 nothing held."""
        return Call(self._release, self.seat_keys(facility_id, day), (holder,))

    async def take(self, facility: Facility, day: date, session_id: str, holder: str) -> bool:
        return bool(
            (await self._fast.batch([self.take_call(facility, day, session_id, holder)]))[0]
        )

    async def release(self, facility_id: str, day: str, holder: str) -> bool:
        return bool((await self._fast.batch([self.release_call(facility_id, day, holder)]))[0])

    def availability(
        self, facility: Facility, days: list[date], booked_by_day: list[dict[str, str]]
    ) -> list[SlotAvailability]:
        capacities = session_capacities(facility.daily_capacity, self.sessions)
        slots: list[SlotAvailability] = []
        for day, booked in zip(days, booked_by_day, strict=True):
            for session in self.sessions:
                slots.append(
                    SlotAvailability(
                        facility_id=facility.facility_id,
                        day=day,
                        session_id=session.session_id,
                        label=session.label,
                        capacity=capacities[session.session_id],
                        booked=int(booked.get(session.session_id, 0)),
                    )
                )
        return slots


def decode_days(reply: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(flat[::2], flat[1::2], strict=True)) for flat in reply]
