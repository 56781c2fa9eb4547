"""The Redis stores of the registration domain, assembled for one process.

The hot path runs over one lean pipelined connection (:mod:`core.redis_lean`),
usually the process's shared one; imports, operator views and repairs use
redis-py. Every Lua script is registered on the lean connection, so that each new
connection (a restarted Redis) loads them all before the first call.

With ``[redis] wait_replicas`` the bookings get a lean connection of their own: a WAIT
holds its connection until the replicas answer (up to ``wait_timeout_ms``, all of it
while a replica is down), and Redis runs a connection's commands in order, so on the
shared one every hop of the process would queue behind each booking's WAIT.
"""

from __future__ import annotations

from collections.abc import Callable

import redis.asyncio as aioredis

from core.redis_client import lean_for_waits, lean_like
from core.redis_lean import FastRedis
from registration import redis_lua
from registration.keys import RegistryKeys
from registration.redis_bookings import RedisBookings
from registration.redis_facilities import RedisFacilities
from registration.redis_import import RedisRegistryWriter
from registration.redis_registrants import RedisRegistrants
from registration.redis_stats import RedisStats
from registration.stores import Stores


class RedisBackend:
    # FastRedisError is both; redis-py raises RedisError subclasses.
    transient_errors: tuple[type[Exception], ...] = (aioredis.RedisError, OSError)

    def __init__(self, fast: FastRedis, owns_fast: bool, booking_fast: FastRedis) -> None:
        self.fast, self._owns_fast, self._booking_fast = fast, owns_fast, booking_fast

    async def warm_up(self) -> None:
        """Connect and load every Lua script (else the first burst of callers each finds a
        script missing and loads it)."""
        await self.fast.load_scripts()
        if self._booking_fast is not self.fast:
            await self._booking_fast.load_scripts()

    async def aclose(self) -> None:
        """Close the lean connection if these stores opened it, and the bookings' own."""
        if self._owns_fast:
            await self.fast.aclose()
        if self._booking_fast is not self.fast:
            await self._booking_fast.aclose()


def redis_stores(
    redis: aioredis.Redis,
    keys: RegistryKeys,
    clock: Callable[[], float],
    fast: FastRedis | None = None,
) -> tuple[Stores, FastRedis]:
    """The stores and their lean connection: ``fast`` (shared: the caller closes it) or
    one of their own to the same server as ``redis`` (closed by ``backend.aclose()``)."""
    lean = fast if fast is not None else lean_like(redis)
    lean.register(*redis_lua.ALL_SCRIPTS)
    booking_lean = lean_for_waits(lean)  # see the module's docstring
    if booking_lean is not lean:
        booking_lean.register(*redis_lua.ALL_SCRIPTS)
    facilities = RedisFacilities(redis, lean, keys)
    stores = Stores(
        registrants=RedisRegistrants(redis, lean, keys, facilities, clock),
        facilities=facilities,
        bookings=RedisBookings(redis, booking_lean, keys, facilities, clock),
        stats=RedisStats(redis, lean, keys),
        writer=RedisRegistryWriter(redis, keys),
        backend=RedisBackend(lean, fast is None, booking_lean),
    )
    return stores, lean
