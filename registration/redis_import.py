"""The registry import's writes in Redis (:class:`RegistryWriter`), and the import itself
for tools and tests that hold a redis-py client rather than a Registry.

Speed (1,000,000 workers well under 30 s): rows go to Redis in big
non-transactional pipelines, a couple of commands per row (workers of one
facility are added with one SADD per batch), and Redis works on one batch while
the importer parses the next. Existing records are read back (to clean old
indexes) only for NIKs already listed, so a first import does no reads at all.
Worker batches go as pre-encoded RESP over a raw connection where possible (see
registration.redis_import_writes).

Health-worker imports run one at a time (:class:`_ImportLock`, across processes): a
second upload waits for the first to end, at most ``[registration] import_wait_seconds``
(then :class:`~registration.models.ImportBusy`, naming when the running one started:
an operator's upload must not hang for the whole of another's hour-long import). Each
batch reads a re-listed worker's old phone, then unlinks it and writes the new one;
two imports interleaving those steps left an old phone in the index, and it then
verified as the worker. A script per row cannot make those steps atomic: the record
(``{w:<nik>}``) and the phone indexes (``{p:<phone>}``) live in different Cluster
slots (the order of the steps, safe wherever an import stops, is in
registration.redis_import_writes). Facility batches take a lock of their own for the
same reason (a moved facility's old regency is read first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from core import redis_scripts
from core.aio import cancel_until_done
from core.redis_bulk import BulkError
from core.redis_bulk_cluster import open_bulk
from core.redis_wire import ScriptLike
from registration import importer, redis_lua
from registration.keys import RegistryKeys
from registration.models import ImportBusy, ImportReport
from registration.redis_facilities import VERSION_FIELD
from registration.redis_import_writes import Bulk, flush
from registration.stores import FacilityRow, WorkerRow

log = logging.getLogger(__name__)
LEASE_MS = 30_000  # a holder that died frees the lock this long after its last renewal
RENEW_SECONDS = LEASE_MS / 3000  # renewed three times per lease
WAIT_SECONDS = 0.05  # between tries while another import holds the lock


class _ImportLock:
    """One import (of ``what``) at a time: a random token under ``SET NX PX``, renewed
    while the import runs, released (if still ours) at its end. A lease that ran out
    (a holder stalled for LEASE_MS) is noticed at the next batch, which then fails.
    The token ends in the time it was taken (``<hex>:<unix ms>``): a waiter that gives
    up can say since when the other import runs."""

    def __init__(self, redis: aioredis.Redis, key: str, what: str) -> None:
        self._redis, self._key, self._what = redis, key, what
        self._token = f"{secrets.token_hex(16)}:{int(time.time() * 1000)}"
        self._renewer: asyncio.Task[None] | None = None
        self.lost = False

    async def acquire(self, wait_seconds: float | None) -> None:
        """Take the lock, waiting while another import holds it: at most ``wait_seconds``
        (then ImportBusy), or as long as that import runs (None: tools and tests)."""
        deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
        while not await self._redis.set(self._key, self._token, nx=True, px=LEASE_MS):
            if deadline is not None and time.monotonic() >= deadline:
                holder = await self._redis.get(self._key)
                if holder is not None:  # (None: it just ended; take it on the next try)
                    raise ImportBusy(self._what, _started(holder), wait_seconds or 0, time.time())
            log.debug("another %s import is running: waiting for its end", self._what)
            await asyncio.sleep(WAIT_SECONDS)
        self._renewer = asyncio.create_task(self._renew())

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                held = await self._run(redis_lua.RENEW_LOCK, self._token, str(LEASE_MS))
            except RedisError:
                continue  # Redis away: the batches fail too; the lease says the rest
            if not held:
                self.lost = True
                return

    async def _run(self, script: ScriptLike, *args: str) -> int:
        return int(await redis_scripts.run_one(self._redis, script, [self._key], args))

    def check(self) -> None:
        if self.lost:
            raise ResponseError(
                "the import lost its lock (stalled over "
                f"{LEASE_MS // 1000} s; another import may run): run it again"
            )

    async def release(self) -> None:
        if self._renewer is not None:
            await cancel_until_done(self._renewer)
        with contextlib.suppress(RedisError):  # Redis away: the lease ends it
            await self._run(redis_lua.RELEASE_LOCK, self._token)


def _started(token: str) -> float | None:
    """When the holder of ``token`` took the lock (Unix time); None for a token without
    the time (an older version's)."""
    stamp = token.rpartition(":")[2]
    return int(stamp) / 1000 if stamp.isdigit() and ":" in token else None


class _WorkerBatches:
    """One batch in flight while the next is parsed. A batch Redis refuses raises a
    redis-py error (as every other Redis failure of the import does)."""

    def __init__(
        self, redis: aioredis.Redis, bulk: Bulk | None, keys: RegistryKeys, lock: _ImportLock
    ) -> None:
        self._redis, self._bulk, self._keys, self._lock = redis, bulk, keys, lock
        self._in_flight: asyncio.Task[None] | None = None

    async def send(self, batch: list[WorkerRow]) -> None:
        self._lock.check()
        try:
            self._in_flight = await flush(
                self._redis, self._bulk, self._keys, batch, self._in_flight
            )
        except BulkError as exc:
            raise ResponseError(f"a batch of the import was refused: {exc}") from exc

    async def drain(self) -> None:
        await self.send([])

    async def settle(self) -> None:
        """The import is ending on an error: let the batch in flight finish writing (whole,
        or with its own error read) before its connection closes under it."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            with contextlib.suppress(Exception):  # the error that ends the import wins
                await in_flight


class RedisRegistryWriter:
    """``wait_seconds``: how long an import waits for another of its kind to end
    (``[registration] import_wait_seconds``); None: as long as that one runs."""

    def __init__(
        self, redis: aioredis.Redis, keys: RegistryKeys, wait_seconds: float | None = None
    ) -> None:
        self._redis, self._keys, self._wait = redis, keys, wait_seconds

    async def facility_ids(self) -> set[str]:
        return set(await self._redis.smembers(self._keys.facilities()))

    async def write_facilities(self, rows: Sequence[FacilityRow]) -> None:
        """Records, the regency index (a moved facility leaves its old regency), the set.

        One batch at a time across imports: two uploads that read a facility's old regency
        before either wrote its new one left it listed in both new regencies."""
        lock = _ImportLock(self._redis, self._keys.facility_import_lock(), "facility")
        await lock.acquire(self._wait)
        try:
            await self._write_facilities(rows)
        finally:
            await lock.release()

    async def _write_facilities(self, rows: Sequence[FacilityRow]) -> None:
        keys = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for fid, *_ in rows:
                pipe.hget(keys.facility(fid), "regency")
            old_regencies = await pipe.execute()
        async with self._redis.pipeline(transaction=False) as pipe:
            for (fid, name, regency, address, capacity), old in zip(
                rows, old_regencies, strict=True
            ):
                pipe.hset(
                    keys.facility(fid),
                    mapping={
                        "facility_id": fid,
                        "name": name,
                        "regency": regency,
                        "address": address,
                        "daily_capacity": capacity,
                    },
                )
                if old and old.lower() != regency.lower():
                    pipe.zrem(keys.regency_facilities(old), fid)
                pipe.zadd(keys.regency_facilities(regency), {fid: 0})
            pipe.sadd(keys.facilities(), *[r[0] for r in rows])
            await pipe.execute()

    async def facilities_imported(self) -> None:
        await self._redis.hincrby(self._keys.registry_meta(), VERSION_FIELD, 1)

    @asynccontextmanager
    async def worker_batches(self) -> AsyncIterator[_WorkerBatches]:
        lock = _ImportLock(self._redis, self._keys.worker_import_lock(), "health-worker")
        await lock.acquire(self._wait)
        bulk = None
        try:
            # The raw RESP writer encodes key names itself: ASCII prefixes only.
            bulk = await open_bulk(self._redis) if self._keys.prefix.isascii() else None
            batches = _WorkerBatches(self._redis, bulk, self._keys, lock)
            try:
                yield batches
                await batches.drain()
            finally:
                await batches.settle()
        finally:
            if bulk:
                await bulk.close()
            await lock.release()

    async def workers_imported(self) -> None:
        await self._redis.hincrby(self._keys.registry_meta(), "workers_version", 1)


async def import_facilities(
    redis: aioredis.Redis,
    keys: RegistryKeys,
    source: importer.Source,
    progress: importer.Progress | None = None,
    *,
    wait_seconds: float | None = None,
) -> ImportReport:
    """Load facilities from CSV into Redis (see registration.importer)."""
    writer = RedisRegistryWriter(redis, keys, wait_seconds)
    return await importer.import_facilities(writer, source, progress)


async def import_health_workers(
    redis: aioredis.Redis,
    keys: RegistryKeys,
    source: importer.Source,
    progress: importer.Progress | None = None,
    *,
    wait_seconds: float | None = None,
) -> ImportReport:
    """Load health workers from CSV into Redis (facilities first; see registration.importer).
    ``wait_seconds``: how long to wait for another import to end (None: as long as it runs)."""
    writer = RedisRegistryWriter(redis, keys, wait_seconds)
    return await importer.import_health_workers(writer, source, progress)
