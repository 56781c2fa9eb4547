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

from core.phone import phone_problem_or_value
from core.redis_bulk import BulkConnection
from registration.facilities import VERSION_FIELD
from registration.import_writes import flush
from registration.keys import RegistryKeys
from registration.models import ImportReport
from registration.nik import PROVINCE_CODES, VALID_DDMM, nik_problem

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


def _header(
    reader: Iterator[list[str]], expected: tuple[str, ...]
) -> tuple[list[int], int, bool] | str:
    """Positions of the expected columns, the header's width, and whether the file has
    exactly the expected columns in order (rows then need no picking); or why the
    header is unusable. Extra columns (a "notes" column an operator added) are ignored.
    """
    try:
        header = next(reader)
    except StopIteration:
        return "the file is empty (a header row is needed)"
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    missing = [c for c in expected if c not in names]
    if missing:
        return f"header lacks column(s): {', '.join(missing)} (need {','.join(expected)})"
    positions = [names.index(c) for c in expected]
    return positions, len(names), positions == list(range(len(names)))


def _pick(row: list[str], positions: list[int], width: int) -> list[str] | None:
    """The expected fields of a row, or None when the row is not as wide as the header
    (an unquoted comma in an address must not shift the columns silently)."""
    if len(row) != width:
        return None
    return [row[i] for i in positions]


async def import_facilities(
    redis: aioredis.Redis,
    keys: RegistryKeys,
    path_or_lines: Source,
    progress: Progress | None = None,
) -> ImportReport:
    errors: list[tuple[int, str]] = []
    rows: list[tuple[str, str, str, str, int]] = []
    seen: dict[str, int] = {}
    with ExitStack() as stack:
        source = _Input(path_or_lines, stack)
        reader = csv.reader(source.lines)
        header = _header(reader, FACILITY_COLUMNS)
        if isinstance(header, str):
            return ImportReport(0, 1, [(1, header)])
        positions, width, straight = header
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            picked = row if straight and len(row) == width else _pick(row, positions, width)
            if picked is None:
                errors.append((line, f"expected {width} columns, got {len(row)}"))
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
    redis: aioredis.Redis, keys: RegistryKeys, rows: list[tuple[str, str, str, str, int]]
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
    redis: aioredis.Redis,
    keys: RegistryKeys,
    path_or_lines: Source,
    progress: Progress | None = None,
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
    keys: RegistryKeys,
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
        header = _header(reader, WORKER_COLUMNS)
        if isinstance(header, str):
            return ImportReport(0, 1, [(1, header)])
        positions, width, straight = header
        rows_seen = 0
        # This loop runs a million times: the common case (clean NIK, 08… phone) takes the
        # inline fast paths; anything else goes through the full validators.
        for row in reader:
            rows_seen += 1
            if in_flight is not None and not rows_seen & 511 and not in_flight.done():
                await asyncio.sleep(0)  # let the batch in flight read its replies, send more
            picked = row if straight and len(row) == 5 else _pick(row, positions, width)
            if picked is None:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # blank line
                errors.append((reader.line_num, f"expected {width} columns, got {len(row)}"))
                continue
            nik, name, phone_raw, profession, fid = picked
            if (
                len(nik) == 16
                and nik.isdigit()
                and nik.isascii()
                and nik[:2] in PROVINCE_CODES
                and nik[6:10] in VALID_DDMM
            ):
                problem = None
            else:
                nik = nik.strip().translate(_NIK_STRIP)
                problem = nik_problem(nik)
            if problem is None:
                if (
                    phone_raw[:2] == "08"
                    and 11 <= len(phone_raw) <= 13
                    and phone_raw[2] != "0"
                    and phone_raw.isdigit()
                    and phone_raw.isascii()
                ):
                    phone = "62" + phone_raw[1:]
                else:
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
                in_flight = await flush(redis, bulk, keys, batch, in_flight)
                batch = []
                if progress:
                    progress(ok, source.done(), source.total)
        ok += len(batch)
        in_flight = await flush(redis, bulk, keys, batch, in_flight)
        if in_flight:
            await in_flight
    await redis.hincrby(keys.registry_meta(), "workers_version", 1)
    if progress:
        progress(ok, source.total, source.total, True)
    return ImportReport(ok, len(errors), errors)
