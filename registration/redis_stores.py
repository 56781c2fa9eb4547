"""The Redis stores of the registration domain, assembled for one process.

The hot path runs over one lean pipelined connection (:mod:`core.redis_lean`),
usually the process's shared one; imports, operator views and repairs use
redis-py. Every Lua script is registered on the lean connection, so that each new
connection (a restarted Redis) loads them all before the first call.

With ``[redis] wait_replicas`` the bookings get lean connections of their own
(``wait_connections`` of them, :mod:`registration.redis_bookings_spread`): a WAIT holds
its connection until the replicas answer (up to ``wait_timeout_ms``, all of it while a
replica is down), and Redis runs a connection's commands in order, so on the shared one
every hop of the process would queue behind each booking's WAIT.
"""

from __future__ import annotations

from collections.abc import Callable

import redis.asyncio as aioredis

from core.redis_client import lean_for_waits, lean_like
from core.redis_lean import FastRedis
from registration import redis_lua
from registration.keys import RegistryKeys
from registration.redis_bookings import RedisBookings
from registration.redis_bookings_spread import SpreadBookings
from registration.redis_facilities import RedisFacilities
from registration.redis_import import RedisRegistryWriter
from registration.redis_registrants import RedisRegistrants
from registration.redis_stats import RedisStats
from registration.stores import BookingStore, Stores


class RedisBackend:
    # FastRedisError is both; redis-py raises RedisError subclasses.
    transient_errors: tuple[type[Exception], ...] = (aioredis.RedisError, OSError)

    def __init__(self, fast: FastRedis, owns_fast: bool, booking_fast: list[FastRedis]) -> None:
        self.fast, self._owns_fast = fast, owns_fast
        self._booking_own = [lean for lean in booking_fast if lean is not fast]

    async def warm_up(self) -> None:
        """Connect and load every Lua script (else the first burst of callers each finds a
        script missing and loads it)."""
        await self.fast.load_scripts()
        for lean in self._booking_own:
            await lean.load_scripts()

    async def aclose(self) -> None:
        """Close the lean connection if these stores opened it, and the bookings' own."""
        if self._owns_fast:
            await self.fast.aclose()
        for lean in self._booking_own:
            await lean.aclose()


def redis_stores(
    redis: aioredis.Redis,
    keys: RegistryKeys,
    clock: Callable[[], float],
    fast: FastRedis | None = None,
    wait_connections: int = 1,
    import_wait_seconds: float | None = None,
) -> tuple[Stores, FastRedis]:
    """The stores and their lean connection: ``fast`` (shared: the caller closes it) or
    one of their own to the same server as ``redis`` (closed by ``backend.aclose()``).
    ``wait_connections``: how many connections of their own the bookings spread over
    when ``fast`` WAITs for replicas (see the module's docstring). ``import_wait_seconds``:
    how long an import waits for another to end (None: as long as it runs)."""
    lean = fast if fast is not None else lean_like(redis)
    lean.register(*redis_lua.ALL_SCRIPTS)
    count = max(wait_connections, 1) if lean.replicas else 1
    booking_leans = [lean_for_waits(lean) for _ in range(count)]
    for own in booking_leans:
        if own is not lean:
            own.register(*redis_lua.ALL_SCRIPTS)
    facilities = RedisFacilities(redis, lean, keys)
    per_connection = [RedisBookings(redis, b, keys, facilities, clock) for b in booking_leans]
    bookings: BookingStore = per_connection[0]
    if len(per_connection) > 1:
        bookings = SpreadBookings(per_connection)
    stores = Stores(
        registrants=RedisRegistrants(redis, lean, keys, facilities, clock),
        facilities=facilities,
        bookings=bookings,
        stats=RedisStats(redis, lean, keys),
        writer=RedisRegistryWriter(redis, keys, import_wait_seconds),
        backend=RedisBackend(lean, fast is None, booking_leans),
    )
    return stores, lean
