"""Writing health-worker batches to Redis for the import (two writers, same writes).

Per row: the worker hash and the phone index; per batch: one SADD per facility and
one to the set of all workers. Rows already listed are read back first (one
SMISMEMBER, then HMGET for those only) so that a changed phone or facility leaves
its old index. :func:`write_workers_bulk` sends pre-encoded RESP (see
core.redis_bulk); :func:`write_workers` is the plain redis-py fallback.

The record (``{w:<nik>}``) and the phone indexes (``{p:<phone>}``) are in different
Cluster slots: no script or transaction writes them together, and an import can stop
between any two commands (a killed process, Redis away). So a batch goes in steps, each
sent only once the one before has been answered: (1) the old phones and facilities
leave their indexes, (2) the records, (3) the new index entries. Wherever it stops, no
index names a worker under a phone (or facility) its record does not hold: an old
phone, maybe someone else's by now, never reaches the worker. A worker moved in a
stopped batch may be listed under no phone until the file is imported again; the
record still holds what step (1) needs then (the old phone until step (2), and from
(2) on the new one, whose entry every import writes again).
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from core.redis_bulk import BulkConnection, resp
from core.redis_bulk_cluster import ClusterBulk
from registration.keys import RegistryKeys
from registration.stores import WorkerRow as Row

Bulk = BulkConnection | ClusterBulk
Previous = tuple[str | None, str | None] | list[str | None]  # (phone, facility_id) stored


async def flush(
    redis: aioredis.Redis,
    bulk: Bulk | None,
    keys: RegistryKeys,
    batch: list[Row],
    in_flight: asyncio.Task[None] | None,
) -> asyncio.Task[None] | None:
    """Wait for the previous batch, start this one, let it reach the socket, return its task."""
    if in_flight:
        await in_flight
    if not batch:
        return None
    if bulk is not None:
        task = asyncio.create_task(write_workers_bulk(bulk, keys, batch))
    else:
        task = asyncio.create_task(write_workers(redis, keys, batch))
    await asyncio.sleep(0)  # the task packs and sends; Redis then works while we parse on
    return task


Unlinks = list[tuple[str, str]]  # (index key, NIK): an old phone's or facility's entry


def _unlinks(keys: RegistryKeys, batch: list[Row], previous: dict[str, Previous]) -> Unlinks:
    """The entries a re-listed worker leaves: its old phone's, its old facility's."""
    found: Unlinks = []
    for nik, _, phone, _, fid in batch:
        old = previous.get(nik)
        if old:
            if old[0] and old[0] != phone:
                found.append((keys.phone_index(old[0]), nik))
            if old[1] and old[1] != fid:
                found.append((keys.workers_by_facility(old[1]), nik))
    return found


def _by_facility(batch: list[Row]) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    for nik, *_, fid in batch:
        members.setdefault(fid, []).append(nik)
    return members


async def write_workers(redis: aioredis.Redis, keys: RegistryKeys, batch: list[Row]) -> None:
    """The batch in the three steps of the module's docstring, over redis-py pipelines."""
    niks = [row[0] for row in batch]
    listed = await redis.smismember(keys.all_workers(), niks)
    previous: dict[str, Previous] = {}
    if any(listed):
        existing = [nik for nik, flag in zip(niks, listed, strict=True) if flag]
        async with redis.pipeline(transaction=False) as pipe:
            for nik in existing:
                pipe.hmget(keys.worker(nik), "phone", "facility_id")
            for nik, (phone, fid) in zip(existing, await pipe.execute(), strict=True):
                previous[nik] = (phone, fid)
    unlinks = _unlinks(keys, batch, previous)
    if unlinks:
        async with redis.pipeline(transaction=False) as pipe:
            for key, nik in unlinks:
                pipe.execute_command("SREM", key, nik)
            await pipe.execute()
    async with redis.pipeline(transaction=False) as pipe:
        for nik, name, phone, profession, fid in batch:
            pipe.execute_command(
                "HSET", keys.worker(nik), "nik", nik, "full_name", name, "phone", phone,
                "profession", profession, "facility_id", fid,
            )  # fmt: skip
        await pipe.execute()
    async with redis.pipeline(transaction=False) as pipe:
        for nik, _, phone, _, _ in batch:
            pipe.execute_command("SADD", keys.phone_index(phone), nik)
        for fid, members in _by_facility(batch).items():
            pipe.execute_command("SADD", keys.workers_by_facility(fid), *members)
        pipe.execute_command("SADD", keys.all_workers(), *niks)
        await pipe.execute()


async def write_workers_bulk(bulk: Bulk, keys: RegistryKeys, batch: list[Row]) -> None:
    """Same writes in the same steps as :func:`write_workers`, pre-encoded as RESP (see
    core.redis_bulk). Each command travels with its key: on a cluster each goes to its
    own master, so a step is whole only once :meth:`run_parts` has returned."""
    niks = [row[0] for row in batch]
    every = keys.all_workers()
    (listed,) = await bulk.run_parts([(every, resp("SMISMEMBER", every, *niks))])
    previous: dict[str, Previous] = {}
    if any(listed):
        existing = [nik for nik, flag in zip(niks, listed, strict=True) if flag]
        hmget = [
            (keys.worker(n), resp("HMGET", keys.worker(n), "phone", "facility_id"))
            for n in existing
        ]
        previous = dict(zip(existing, await bulk.run_parts(hmget), strict=True))
    unlinks = _unlinks(keys, batch, previous)
    if unlinks:
        await bulk.run_parts([(key, resp("SREM", key, nik)) for key, nik in unlinks])
    records: list[tuple[str, str]] = []
    entries: list[tuple[str, str]] = []
    worker_key, phone_key = keys.worker, keys.phone_index
    for nik, name, phone, profession, fid in batch:
        wk, pk = worker_key(nik), phone_key(phone)
        nl = len(name) if name.isascii() else len(name.encode())
        pl = len(profession) if profession.isascii() else len(profession.encode())
        records.append(
            (
                wk,
                f"*12\r\n$4\r\nHSET\r\n${len(wk)}\r\n{wk}\r\n$3\r\nnik\r\n$16\r\n{nik}\r\n"
                f"$9\r\nfull_name\r\n${nl}\r\n{name}\r\n$5\r\nphone\r\n${len(phone)}\r\n{phone}\r\n"
                f"$10\r\nprofession\r\n${pl}\r\n{profession}\r\n"
                f"$11\r\nfacility_id\r\n${len(fid)}\r\n{fid}\r\n",
            )
        )
        entries.append((pk, f"*3\r\n$4\r\nSADD\r\n${len(pk)}\r\n{pk}\r\n$16\r\n{nik}\r\n"))
    await bulk.run_parts(records)
    for fid, members in _by_facility(batch).items():
        fk = keys.workers_by_facility(fid)
        entries.append((fk, resp("SADD", fk, *members)))
    entries.append((every, resp("SADD", every, *niks)))
    await bulk.run_parts(entries)
