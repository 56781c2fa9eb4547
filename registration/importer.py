"""Registry import from CSV: facilities and health workers, idempotent and fast.

Sources: a path, a text stream (the operator API hands an uploaded CSV as
``io.StringIO``) or any iterable of lines. Every row is validated; a bad row is
reported with its line number and reason and skipped, good rows are kept.
Re-importing updates records in place; a worker whose phone or facility changed
leaves the old phone index / facility set.

Speed (1,000,000 workers well under 30 s): rows go to Redis in big
non-transactional pipelines, a couple of commands per row (workers of one
facility are added with one SADD per batch), and Redis works on one batch while
Python parses the next. Existing records are read back (to clean old indexes)
only for NIKs already listed, so a first import does no reads at all.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import Any

import redis.asyncio as aioredis

from registration.bulk import BulkConnection, resp
from registration.facilities import VERSION_FIELD
from registration.keys import Keys
from registration.models import ImportReport
from registration.nik import nik_problem
from registration.phone import phone_problem_or_value

Progress = Callable[..., None]  # progress(rows, done_bytes | None, total_bytes | None[, final])
# A path, the CSV as bytes (UTF-8), a text stream, or any iterable of lines.
Source = str | os.PathLike[str] | bytes | io.TextIOBase | Iterable[str]

FACILITY_COLUMNS = ("facility_id", "name", "regency", "address", "daily_capacity")
WORKER_COLUMNS = ("nik", "full_name", "phone", "profession", "facility_id")
FACILITY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
BATCH_ROWS = 5000
_NIK_STRIP = str.maketrans("", "", " .-\t")


class _Input:
    """Lines of the source plus, for files, how far we have read (for progress)."""

    def __init__(self, source: Source, stack: ExitStack) -> None:
        self.total: int | None = None
        self._raw: Any = None
        self.lines: Iterable[str]
        if isinstance(source, bytes | bytearray):  # an upload kept as bytes
            self.lines = io.StringIO(bytes(source).decode("utf-8-sig"), newline="")
        elif isinstance(source, str | os.PathLike):
            self.total = os.path.getsize(source)
            binary = stack.enter_context(open(source, "rb"))  # noqa: SIM115
            self._raw = binary
            self.lines = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        else:
            self.lines = source

    def done(self) -> int | None:
        return self._raw.tell() if self._raw is not None else None


def _header(reader: Iterator[list[str]], expected: tuple[str, ...]) -> list[int] | str:
    """Column positions in file order, or why the header is unusable."""
    try:
        header = next(reader)
    except StopIteration:
        return "the file is empty (a header row is needed)"
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    missing = [c for c in expected if c not in names]
    if missing:
        return f"header lacks column(s): {', '.join(missing)} (need {','.join(expected)})"
    return [names.index(c) for c in expected]


def _pick(row: list[str], positions: list[int], straight: bool) -> list[str] | None:
    if straight:
        return row if len(row) == len(positions) else None
    if len(row) <= max(positions):
        return None
    return [row[i] for i in positions]


async def import_facilities(
    redis: aioredis.Redis, keys: Keys, path_or_lines: Source, progress: Progress | None = None
) -> ImportReport:
    errors: list[tuple[int, str]] = []
    rows: list[tuple[str, str, str, str, int]] = []
    seen: dict[str, int] = {}
    with ExitStack() as stack:
        source = _Input(path_or_lines, stack)
        reader = csv.reader(source.lines)
        positions = _header(reader, FACILITY_COLUMNS)
        if isinstance(positions, str):
            return ImportReport(0, 1, [(1, positions)])
        straight = positions == list(range(len(positions)))
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            picked = _pick(row, positions, straight)
            if picked is None:
                errors.append((line, f"expected {len(FACILITY_COLUMNS)} columns, got {len(row)}"))
                continue
            fid, name, regency, address, capacity = (v.strip() for v in picked)
            problem = None
            if not FACILITY_ID.match(fid):
                problem = "facility_id must be 1-32 letters, digits, - or _"
            elif not name or len(name) > 120 or not name.isprintable():
                problem = "name must be 1-120 printable characters"
            elif not regency or len(regency) > 60 or not regency.isprintable():
                problem = "regency must be 1-60 characters"
            elif len(address) > 200:
                problem = "address longer than 200 characters"
            elif not capacity.isdigit() or int(capacity) > 100_000:
                problem = "daily_capacity must be a whole number 0-100000"
            elif fid in seen:
                problem = f"duplicate facility_id {fid} (first on line {seen[fid]})"
            if problem:
                errors.append((line, problem))
                continue
            seen[fid] = line
            rows.append((fid, name, regency, address, int(capacity)))
    for start in range(0, len(rows), BATCH_ROWS):
        await _write_facilities(redis, keys, rows[start : start + BATCH_ROWS])
        if progress:
            progress(min(start + BATCH_ROWS, len(rows)), None, None)
    await redis.hincrby(keys.registry_meta(), VERSION_FIELD, 1)
    if progress:
        progress(len(rows), None, None, True)
    return ImportReport(len(rows), len(errors), errors)


async def _write_facilities(
    redis: aioredis.Redis, keys: Keys, rows: list[tuple[str, str, str, str, int]]
) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        for fid, *_ in rows:
            pipe.hget(keys.facility(fid), "regency")
        old_regencies = await pipe.execute()
    async with redis.pipeline(transaction=False) as pipe:
        for (fid, name, regency, address, capacity), old in zip(rows, old_regencies, strict=True):
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


async def import_health_workers(
    redis: aioredis.Redis, keys: Keys, path_or_lines: Source, progress: Progress | None = None
) -> ImportReport:
    known_facilities = set(await redis.smembers(keys.facilities()))
    bulk = await BulkConnection.open(redis) if keys.prefix.isascii() else None
    try:
        return await _import_workers(redis, keys, path_or_lines, progress, bulk, known_facilities)
    finally:
        if bulk:
            await bulk.close()


async def _import_workers(
    redis: aioredis.Redis,
    keys: Keys,
    path_or_lines: Source,
    progress: Progress | None,
    bulk: BulkConnection | None,
    known_facilities: set[str],
) -> ImportReport:
    errors: list[tuple[int, str]] = []
    seen: dict[int, int] = {}  # int(nik) -> first line: half the memory of str keys
    ok = 0
    batch: list[tuple[str, str, str, str, str]] = []
    in_flight: asyncio.Task[None] | None = None
    with ExitStack() as stack:
        source = _Input(path_or_lines, stack)
        reader = csv.reader(source.lines)
        positions = _header(reader, WORKER_COLUMNS)
        if isinstance(positions, str):
            return ImportReport(0, 1, [(1, positions)])
        straight = positions == list(range(len(positions)))
        for row in reader:
            if in_flight is not None and reader.line_num % 512 == 0 and not in_flight.done():
                await asyncio.sleep(0)  # let the batch in flight read its replies, send more
            picked = _pick(row, positions, straight)
            if picked is None:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                errors.append((reader.line_num, f"expected 5 columns, got {len(row)}"))
                continue
            nik, name, phone_raw, profession, fid = picked
            # Fast path: a clean 16-digit NIK needs no stripping.
            if len(nik) != 16 or not nik.isdigit():
                nik = nik.strip().translate(_NIK_STRIP)
            problem = nik_problem(nik)
            if problem is None:
                phone, problem = phone_problem_or_value(phone_raw)
                name, profession, fid = name.strip(), profession.strip(), fid.strip()
                if problem is not None:
                    pass
                elif not name or len(name) > 100 or not name.isprintable():
                    problem = "full_name must be 1-100 printable characters"
                elif not profession or len(profession) > 60 or not profession.isprintable():
                    problem = "profession must be 1-60 characters"
                elif fid not in known_facilities:
                    problem = f"unknown facility_id {fid!r} (import facilities first)"
                else:
                    first = seen.setdefault(int(nik), reader.line_num)
                    if first != reader.line_num:
                        problem = f"duplicate NIK (first on line {first})"
            if problem is not None:
                errors.append((reader.line_num, problem))
                continue
            batch.append((nik, name, phone, profession, fid))
            if len(batch) >= BATCH_ROWS:
                ok += len(batch)
                in_flight = await _flush(redis, bulk, keys, batch, in_flight)
                batch = []
                if progress:
                    progress(ok, source.done(), source.total)
        ok += len(batch)
        in_flight = await _flush(redis, bulk, keys, batch, in_flight)
        if in_flight:
            await in_flight
    await redis.hincrby(keys.registry_meta(), "workers_version", 1)
    if progress:
        progress(ok, source.total, source.total, True)
    return ImportReport(ok, len(errors), errors)


async def _flush(
    redis: aioredis.Redis,
    bulk: BulkConnection | None,
    keys: Keys,
    batch: list[tuple[str, str, str, str, str]],
    in_flight: asyncio.Task[None] | None,
) -> asyncio.Task[None] | None:
    """Wait for the previous batch, start this one, let it reach the socket, return its task."""
    if in_flight:
        await in_flight
    if not batch:
        return None
    if bulk is not None:
        task = asyncio.create_task(_write_workers_bulk(bulk, keys, batch))
    else:
        task = asyncio.create_task(_write_workers(redis, keys, batch))
    await asyncio.sleep(0)  # the task packs and sends; Redis then works while we parse on
    return task


async def _write_workers(
    redis: aioredis.Redis, keys: Keys, batch: list[tuple[str, str, str, str, str]]
) -> None:
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


async def _write_workers_bulk(
    bulk: BulkConnection, keys: Keys, batch: list[tuple[str, str, str, str, str]]
) -> None:
    """Same writes as :func:`_write_workers`, pre-encoded as RESP (see registration.bulk)."""
    niks = [row[0] for row in batch]
    (listed,) = await bulk.run(resp("SMISMEMBER", keys.all_workers(), *niks), 1)
    previous: dict[str, list[str | None]] = {}
    if any(listed):
        existing = [nik for nik, flag in zip(niks, listed, strict=True) if flag]
        hmget = "".join(resp("HMGET", keys.worker(n), "phone", "facility_id") for n in existing)
        previous = dict(zip(existing, await bulk.run(hmget, len(existing)), strict=True))
    parts: list[str] = []
    add = parts.append
    count = 0
    by_facility: dict[str, list[str]] = {}
    worker_key, phone_key = keys.worker, keys.phone_index
    for nik, name, phone, profession, fid in batch:
        wk, pk = worker_key(nik), phone_key(phone)
        nl = len(name) if name.isascii() else len(name.encode())
        pl = len(profession) if profession.isascii() else len(profession.encode())
        add(
            f"*12\r\n$4\r\nHSET\r\n${len(wk)}\r\n{wk}\r\n$3\r\nnik\r\n$16\r\n{nik}\r\n"
            f"$9\r\nfull_name\r\n${nl}\r\n{name}\r\n$5\r\nphone\r\n${len(phone)}\r\n{phone}\r\n"
            f"$10\r\nprofession\r\n${pl}\r\n{profession}\r\n"
            f"$11\r\nfacility_id\r\n${len(fid)}\r\n{fid}\r\n"
            f"*3\r\n$4\r\nSADD\r\n${len(pk)}\r\n{pk}\r\n$16\r\n{nik}\r\n"
        )
        count += 2
        by_facility.setdefault(fid, []).append(nik)
        old = previous.get(nik)
        if old:
            if old[0] and old[0] != phone:
                add(resp("SREM", phone_key(old[0]), nik))
                count += 1
            if old[1] and old[1] != fid:
                add(resp("SREM", keys.workers_by_facility(old[1]), nik))
                count += 1
    for fid, members in by_facility.items():
        add(resp("SADD", keys.workers_by_facility(fid), *members))
    add(resp("SADD", keys.all_workers(), *niks))
    await bulk.run("".join(parts), count + len(by_facility) + 1)
