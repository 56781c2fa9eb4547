"""Facilities and seats in Redis (:class:`FacilityStore`).

Facility records are hashes (``RegistryKeys.facility``) listed in one set; every
import bumps ``facilities_version`` in ``RegistryKeys.registry_meta()``. Seats live
in facility-tagged keys (``{f:<facility_id>}``): a counter hash per day (session ->
seats taken) and a holders hash per day ("<nik>|<claim_id>" -> session). Taking and
giving back a seat are Lua scripts on those two keys, both idempotent per holder,
so a retried or repaired step never counts twice. The hot path (seats of one
facility, taking and giving back, the import version) runs over the lean client;
loading the records and the overview over redis-py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from core import redis_scripts
from core.redis_lean import Call, FastRedis
from registration import redis_lua
from registration.keys import RegistryKeys
from registration.models import Facility
from registration.records import day_key, facility_from
from registration.stores import Seat

VERSION_FIELD = "facilities_version"
LOAD_CHUNK = 2000  # facility records per pipeline


def _per_day(reply: list[list[str]]) -> list[dict[str, int]]:
    """READ_DAYS' reply (one flat HGETALL per day) as session -> seats, per day."""
    return [{flat[i]: int(flat[i + 1]) for i in range(0, len(flat), 2)} for flat in reply]


class RedisFacilities:
    def __init__(self, redis: aioredis.Redis, fast: FastRedis, keys: RegistryKeys) -> None:
        self._redis, self._fast, self._keys = redis, fast, keys

    def version_command(self) -> tuple[str, ...]:
        """The import version read, for a lean-client batch of another store."""
        return ("HGET", self._keys.registry_meta(), VERSION_FIELD)

    async def version(self) -> str | None:
        # On the lean client: booking hops read it (once a second per process), and
        # redis-py's cluster client, reconnecting during a failover, can fail with an
        # AttributeError (a race in its connect) instead of a RedisError.
        result: str | None = await self._fast.execute(*self.version_command())
        return result

    async def load(self) -> tuple[str | None, list[Facility]]:
        version = await self.version()
        ids = sorted(await self._redis.smembers(self._keys.facilities()))
        found: list[Facility] = []
        for start in range(0, len(ids), LOAD_CHUNK):
            async with self._redis.pipeline(transaction=False) as pipe:
                for facility_id in ids[start : start + LOAD_CHUNK]:
                    pipe.hgetall(self._keys.facility(facility_id))
                for raw in await pipe.execute():
                    facility = facility_from(raw)
                    if facility:
                        found.append(facility)
        return version, found

    def _day_keys(self, facility_id: str, days: Sequence[date]) -> list[str]:
        return [self._keys.slot_booked(facility_id, day_key(d)) for d in days]

    async def seats_booked(self, facility_id: str, days: Sequence[date]) -> list[dict[str, int]]:
        """One command for every day (the USSD hot path pays per command in Python)."""
        reply = await self._fast.evalsha(redis_lua.READ_DAYS, self._day_keys(facility_id, days), ())
        return _per_day(reply)

    async def booked_totals(self, facility_ids: Sequence[str], days: Sequence[date]) -> list[int]:
        def build(pipe: Pipeline) -> None:
            for facility_id in facility_ids:
                keys = self._day_keys(facility_id, days)
                redis_scripts.queue(pipe, redis_lua.READ_DAYS, keys, [])

        replies = await redis_scripts.run(self._redis, [redis_lua.READ_DAYS], build)
        return [sum(int(v) for flat in per_day for v in flat[1::2]) for per_day in replies]

    # --- seats: script calls other stores put in their batches -----------------------

    def seat_keys(self, facility_id: str, day: str) -> list[str]:
        return [self._keys.slot_booked(facility_id, day), self._keys.slot_holders(facility_id, day)]

    def take_call(self, seat: Seat, holder: str) -> Call:
        """The seat-taking script for a batch; its reply is 1 taken (or already held), 0 full."""
        keys = self.seat_keys(seat.facility_id, day_key(seat.day))
        return Call(redis_lua.TAKE_SEAT, keys, (seat.session_id, seat.capacity, holder))

    def release_call(self, facility_id: str, day: str, holder: str) -> Call:
        """The seat-release script for a batch (``day`` as stored, YYYYMMDD): 1 released."""
        return Call(redis_lua.RELEASE_SEAT, self.seat_keys(facility_id, day), (holder,))

    async def take_seat(self, seat: Seat, holder: str) -> bool:
        return bool((await self._fast.batch([self.take_call(seat, holder)]))[0])

    async def release_seat(self, facility_id: str, day: date, holder: str) -> bool:
        call = self.release_call(facility_id, day_key(day), holder)
        return bool((await self._fast.batch([call]))[0])
