"""Writing health-worker batches to Redis for the import (two writers, same writes).

Per row: the worker hash and the phone index; per batch: one SADD per facility and
one to the set of all workers. Rows already listed are read back first (one
SMISMEMBER, then HMGET for those only) so that a changed phone or facility leaves
its old index. :func:`write_workers_bulk` sends pre-encoded RESP (see
core.redis_bulk); :func:`write_workers` is the plain redis-py fallback.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from core.redis_bulk import BulkConnection, resp
from core.redis_bulk_cluster import ClusterBulk
from registration.keys import RegistryKeys
from registration.stores import WorkerRow as Row

Bulk = BulkConnection | ClusterBulk


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


async def write_workers(redis: aioredis.Redis, keys: RegistryKeys, batch: list[Row]) -> None:
    niks = [row[0] for row in batch]
    listed = await redis.smismember(keys.all_workers(), niks)
    previous: dict[str, tuple[str | None, str | None]] = {}
    if any(listed):
        existing = [nik for nik, flag in zip(niks, listed, strict=True) if flag]
        async with redis.pipeline(transaction=False) as pipe:
            for nik in existing:
                pipe.hmget(keys.worker(nik), "phone", "facility_id")
            for nik, (phone, fid) in zip(existing, await pipe.execute(), strict=True):
                previous[nik] = (phone, fid)
    by_facility: dict[str, list[str]] = {}
    async with redis.pipeline(transaction=False) as pipe:
        command = pipe.execute_command
        for nik, name, phone, profession, fid in batch:
            command(
                "HSET",
                keys.worker(nik),
                "nik",
                nik,
                "full_name",
                name,
                "phone",
                phone,
                "profession",
                profession,
                "facility_id",
                fid,
            )
            command("SADD", keys.phone_index(phone), nik)
            by_facility.setdefault(fid, []).append(nik)
            old = previous.get(nik)
            if old:
                if old[0] and old[0] != phone:
                    command("SREM", keys.phone_index(old[0]), nik)
                if old[1] and old[1] != fid:
                    command("SREM", keys.workers_by_facility(old[1]), nik)
        for fid, members in by_facility.items():
            command("SADD", keys.workers_by_facility(fid), *members)
        command("SADD", keys.all_workers(), *niks)
        await pipe.execute()


async def write_workers_bulk(bulk: Bulk, keys: RegistryKeys, batch: list[Row]) -> None:
    """Same writes as :func:`write_workers`, pre-encoded as RESP (see core.redis_bulk).

    Each command travels with its key: on a cluster each goes to its own master.
    """
    niks = [row[0] for row in batch]
    every = keys.all_workers()
    (listed,) = await bulk.run_parts([(every, resp("SMISMEMBER", every, *niks))])
    previous: dict[str, list[str | None]] = {}
    if any(listed):
        existing = [nik for nik, flag in zip(niks, listed, strict=True) if flag]
        hmget = [
            (keys.worker(n), resp("HMGET", keys.worker(n), "phone", "facility_id"))
            for n in existing
        ]
        previous = dict(zip(existing, await bulk.run_parts(hmget), strict=True))
    parts: list[tuple[str, str]] = []
    add = parts.append
    by_facility: dict[str, list[str]] = {}
    worker_key, phone_key = keys.worker, keys.phone_index
    for nik, name, phone, profession, fid in batch:
        wk, pk = worker_key(nik), phone_key(phone)
        nl = len(name) if name.isascii() else len(name.encode())
        pl = len(profession) if profession.isascii() else len(profession.encode())
        add(
            (
                wk,
                f"*12\r\n$4\r\nHSET\r\n${len(wk)}\r\n{wk}\r\n$3\r\nnik\r\n$16\r\n{nik}\r\n"
                f"$9\r\nfull_name\r\n${nl}\r\n{name}\r\n$5\r\nphone\r\n${len(phone)}\r\n{phone}\r\n"
                f"$10\r\nprofession\r\n${pl}\r\n{profession}\r\n"
                f"$11\r\nfacility_id\r\n${len(fid)}\r\n{fid}\r\n",
            )
        )
        add((pk, f"*3\r\n$4\r\nSADD\r\n${len(pk)}\r\n{pk}\r\n$16\r\n{nik}\r\n"))
        by_facility.setdefault(fid, []).append(nik)
        old = previous.get(nik)
        if old:
            if old[0] and old[0] != phone:
                add((phone_key(old[0]), resp("SREM", phone_key(old[0]), nik)))
            if old[1] and old[1] != fid:
                fk = keys.workers_by_facility(old[1])
                add((fk, resp("SREM", fk, nik)))
    for fid, members in by_facility.items():
        fk = keys.workers_by_facility(fid)
        add((fk, resp("SADD", fk, *members)))
    add((every, resp("SADD", every, *niks)))
    await bulk.run_parts(parts)
