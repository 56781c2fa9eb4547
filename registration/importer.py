"""Registry import from CSV: facilities and health workers, idempotent and fast.

Sources: a path, the bytes of an upload (the operator API), a text stream or any
iterable of lines. Every row is validated; a bad row is reported with its line
number and reason and skipped, good rows are kept. Re-importing updates records in
place; a worker whose phone or facility changed leaves the old phone index /
facility set.

Reading the source (registration.import_source): a file or upload that is not UTF-8
text is refused before anything is written (:class:`UnreadableFile`, naming the
first line that fails); a row the csv module cannot read is a bad row like any
other; should reading stop half way, the report says where.

Rows go to a :class:`RegistryWriter` in batches of ``BATCH_ROWS``; the store
writes one batch while this module parses the next (speed: 1,000,000 workers well
under 30 s into Redis, see registration.redis_import).
"""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import Callable
from contextlib import ExitStack

from core.digits import is_digits, whole_number
from core.phone import phone_problem_or_value
from core.privacy import redact
from registration.import_source import CsvRows, Input, Source, UnreadableFile, rows_of
from registration.models import ImportReport
from registration.nik import PROVINCE_CODES, VALID_DDMM, validate_nik
from registration.stores import FacilityRow, RegistryWriter, WorkerRow, WorkerSink

Progress = Callable[..., None]  # progress(rows, done_bytes | None, total_bytes | None[, final])

FACILITY_COLUMNS = ("facility_id", "name", "regency", "address", "daily_capacity")
WORKER_COLUMNS = ("nik", "full_name", "phone", "profession", "facility_id")
__all__ = ["Progress", "Source", "UnreadableFile", "import_facilities", "import_health_workers"]

FACILITY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
BATCH_ROWS = 5000


def _header(reader: CsvRows, expected: tuple[str, ...]) -> tuple[list[int], int, bool] | str:
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


def _facility_problem(fid: str, name: str, regency: str, address: str, capacity: str) -> str:
    if not FACILITY_ID.match(fid):
        return "facility_id must be 1-32 letters, digits, - or _"
    if not name or len(name) > 120 or not name.isprintable():
        return "name must be 1-120 printable characters"
    if not regency or len(regency) > 60 or not regency.isprintable():
        return "regency must be 1-60 characters"
    if len(address) > 200:
        return "address longer than 200 characters"
    number = whole_number(capacity, max_digits=12)
    if number is None or number > 100_000:
        return "daily_capacity must be a whole number 0-100000"
    return ""


def _read_facilities(
    path_or_lines: Source,
) -> tuple[list[FacilityRow], list[tuple[int, str]]] | str:
    """The good rows and (line, reason) for the bad ones; or why the header is unusable."""
    errors: list[tuple[int, str]] = []
    rows: list[FacilityRow] = []
    seen: dict[str, int] = {}
    with ExitStack() as stack:
        reader = csv.reader(Input(path_or_lines, stack).lines)
        header = _header(reader, FACILITY_COLUMNS)
        if isinstance(header, str):
            return header
        positions, width, straight = header
        for row in rows_of(reader, errors):
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            picked = row if straight and len(row) == width else _pick(row, positions, width)
            if picked is None:
                errors.append((line, f"expected {width} columns, got {len(row)}"))
                continue
            fid, name, regency, address, capacity = (v.strip() for v in picked)
            problem = _facility_problem(fid, name, regency, address, capacity)
            if not problem and fid in seen:
                problem = f"duplicate facility_id {fid} (first on line {seen[fid]})"
            if problem:
                errors.append((line, problem))
                continue
            seen[fid] = line
            rows.append((fid, name, regency, address, int(capacity)))
    return rows, errors


async def import_facilities(
    writer: RegistryWriter, path_or_lines: Source, progress: Progress | None = None
) -> ImportReport:
    parsed = _read_facilities(path_or_lines)
    if isinstance(parsed, str):
        return ImportReport(0, 1, [(1, parsed)])
    rows, errors = parsed
    for start in range(0, len(rows), BATCH_ROWS):
        await writer.write_facilities(rows[start : start + BATCH_ROWS])
        if progress:
            progress(min(start + BATCH_ROWS, len(rows)), None, None)
    await writer.facilities_imported()
    if progress:
        progress(len(rows), None, None, True)
    return ImportReport(len(rows), len(errors), errors)


class _WorkerCheck:
    """Validates worker rows: the common case (clean NIK, 08... phone) takes inline fast
    paths (this runs a million times); anything else goes through the full validators."""

    def __init__(self, known_facilities: set[str]) -> None:
        self.known = known_facilities
        self.seen: dict[int, int] = {}  # int(nik) -> first line: half the memory of str keys

    def row(self, picked: list[str], line: int) -> WorkerRow | str:
        """The row to write, or why not."""
        nik, name, phone_raw, profession, fid = picked
        if not (
            len(nik) == 16
            and is_digits(nik)
            and nik[:2] in PROVINCE_CODES
            and nik[6:10] in VALID_DDMM
        ):
            checked = validate_nik(nik)
            if not checked.ok:
                return checked.reason
            nik = checked.value
        if (
            phone_raw[:2] == "08"
            and 11 <= len(phone_raw) <= 13
            and phone_raw[2] != "0"
            and is_digits(phone_raw)
        ):
            phone = "62" + phone_raw[1:]
        else:
            phone, problem = phone_problem_or_value(phone_raw)
            if problem is not None:
                return problem
        name, profession, fid = name.strip(), profession.strip(), fid.strip()
        if not name or len(name) > 100 or not name.isprintable():
            return "full_name must be 1-100 printable characters"
        if not profession or len(profession) > 60 or not profession.isprintable():
            return "profession must be 1-60 characters"
        if fid not in self.known:
            if not FACILITY_ID.match(fid):  # not echoed: the cell may hold anything
                return "facility_id must be 1-32 letters, digits, - or _"
            # A NIK or phone in the column is an id in form: redact() masks its digits.
            return f"unknown facility_id {redact(fid)!r} (import facilities first)"
        first = self.seen.setdefault(int(nik), line)
        if first != line:
            return f"duplicate NIK (first on line {first})"
        return (nik, name, phone, profession, fid)


async def import_health_workers(
    writer: RegistryWriter, path_or_lines: Source, progress: Progress | None = None
) -> ImportReport:
    check = _WorkerCheck(await writer.facility_ids())
    with ExitStack() as stack:
        source = Input(path_or_lines, stack)
        reader = csv.reader(source.lines)
        header = _header(reader, WORKER_COLUMNS)
        if isinstance(header, str):
            return ImportReport(0, 1, [(1, header)])
        async with writer.worker_batches() as sink:
            report = await _import_workers(sink, reader, header, check, source, progress)
    await writer.workers_imported()
    if progress:
        progress(report.rows_ok, source.total, source.total, True)
    return report


async def _import_workers(
    sink: WorkerSink,
    reader: CsvRows,
    header: tuple[list[int], int, bool],
    check: _WorkerCheck,
    source: Input,
    progress: Progress | None,
) -> ImportReport:
    positions, width, straight = header
    errors: list[tuple[int, str]] = []
    ok, rows_seen = 0, 0
    batch: list[WorkerRow] = []
    for row in rows_of(reader, errors):
        rows_seen += 1
        if not rows_seen & 511:
            await asyncio.sleep(0)  # let the batch in flight read its replies, send more
        picked = row if straight and len(row) == 5 else _pick(row, positions, width)
        if picked is None:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            errors.append((reader.line_num, f"expected {width} columns, got {len(row)}"))
            continue
        checked = check.row(picked, reader.line_num)
        if isinstance(checked, str):
            errors.append((reader.line_num, checked))
            continue
        batch.append(checked)
        if len(batch) >= BATCH_ROWS:
            ok += len(batch)
            await sink.send(batch)
            batch = []
            if progress:
                progress(ok, source.done(), source.total)
    if batch:
        ok += len(batch)
        await sink.send(batch)
    return ImportReport(ok, len(errors), errors)
