"""Imports that go wrong: another encoding, a huge field, a failure half way through.

Each ends with `line N: reason` and cleanly: no traceback, no batch cut off without a
word, no "Task exception was never retrieved" (a batch still in flight is waited for).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from registration import importer, redis_import
from registration.importer import UnreadableFile
from tests.keys import AllKeys
from tests.registry_backends import Backend
from tests.test_registration_support import (
    FAC_HEADER,
    STANDARD_FACILITIES,
    WORKER_HEADER,
    facilities_csv,
    nik,
)
from ussd_server import cli


def worker_text(count: int, first: int = 0) -> str:
    rows = [f"{nik(i)},Pekerja {i},0812{i:08d},Perawat,PKM-01\n" for i in range(first, count)]
    return WORKER_HEADER + "".join(rows)


BAD_ROW = f"{nik(9000)},Andr\xe9,081299990000,Perawat,PKM-01\n"
FILES = {  # what the file holds -> the line the import names
    "utf-16": (worker_text(3).encode("utf-16"), 1),
    "latin-1": ((worker_text(3) + BAD_ROW).encode("latin-1"), 5),
    "bad byte after 5,000 rows": (worker_text(5001).encode() + BAD_ROW.encode("latin-1"), 5003),
}


@pytest.mark.parametrize("kind", sorted(FILES))
async def test_a_file_that_is_not_utf8_is_refused_whole(
    backend: Backend, tmp_path: Path, kind: str
) -> None:
    registry = backend.registry
    await registry.import_facilities(facilities_csv(*STANDARD_FACILITIES))
    data, line = FILES[kind]
    path = tmp_path / "workers.csv"
    path.write_bytes(data)
    for source in (path, data):  # a file (the CLI), an upload (the API)
        with pytest.raises(UnreadableFile) as refused:
            await registry.import_health_workers(source)
        assert refused.value.line == line and "UTF-8" in refused.value.reason
        assert str(refused.value).startswith(f"line {line}: ")
    assert (await registry.stats())["workers_listed"] == 0  # nothing was written


async def test_a_field_over_128_kib_is_a_bad_row(backend: Backend) -> None:
    registry = backend.registry
    await registry.import_facilities(facilities_csv(*STANDARD_FACILITIES))
    huge = f'{nik(7)},"{"x" * 200_000}",081200000007,Perawat,PKM-01\n'
    unclosed = f'{nik(8)},"Siti,081200000008,Perawat,PKM-01\n' + "y" * 140_000 + "\n"
    text = worker_text(2) + huge + worker_text(4, 2)[len(WORKER_HEADER) :] + unclosed
    report = await registry.import_health_workers(text.encode())
    assert report.rows_ok == 4
    assert [line for line, _ in report.errors][:1] == [4]
    assert all("longer than 131072 characters" in r for _, r in report.errors if "field" in r)
    assert {line for line, _ in report.errors} == {4, 8}  # 8: where the open quote overflowed


async def test_a_capacity_in_digits_other_than_0_to_9_is_a_bad_row(backend: Backend) -> None:
    """ "²" passes str.isdigit() but not int(): it once ended the whole import."""
    rows = [*STANDARD_FACILITIES[:2], "PKM-X1,Puskesmas X,Kota Bandung,Jl. X,²"]
    rows += ["PKM-X2,Puskesmas Y,Kota Bandung,Jl. Y,١٢", "PKM-X3,Puskesmas Z,Kota Bandung,Jl. Z,7"]
    report = await backend.registry.import_facilities(facilities_csv(*rows))
    assert report.rows_ok == 3
    assert [line for line, _ in report.errors] == [4, 5]
    assert all("daily_capacity" in reason for _, reason in report.errors)


def failing_lines(good: int) -> Iterator[str]:
    """A source whose reading fails after ``good`` rows (a disk error, say)."""
    yield WORKER_HEADER
    for i in range(good):
        yield f"{nik(i)},Pekerja {i},0812{i:08d},Perawat,PKM-01\n"
    raise OSError("Input/output error")


def unretrieved(loop: asyncio.AbstractEventLoop) -> list[str]:
    """Collect what the loop would log as 'Task exception was never retrieved'."""
    found: list[str] = []
    loop.set_exception_handler(lambda _loop, context: found.append(context["message"]))
    return found


async def test_reading_that_fails_half_way_keeps_the_rows_before_and_says_where(
    redis: aioredis.Redis, keys: AllKeys
) -> None:
    found = unretrieved(asyncio.get_running_loop())
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    report = await redis_import.import_health_workers(redis, keys, failing_lines(7000))
    assert report.rows_ok == 7000  # a whole batch of 5,000, then the 2,000 read before the error
    [(line, reason)] = report.errors
    assert line == 7002 and "reading stopped here" in reason and "Input/output" in reason
    assert await redis.scard(keys.all_workers()) == 7000
    gc.collect()  # a task dropped with its exception unread would be reported now
    assert not found


async def test_a_batch_redis_refuses_ends_the_import_with_a_redis_error(
    redis: aioredis.Redis, keys: AllKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = unretrieved(asyncio.get_running_loop())
    monkeypatch.setattr(importer, "BATCH_ROWS", 1000)
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    await redis.set(keys.workers_by_facility("PKM-01"), "not a set")  # every SADD to it fails
    with pytest.raises(RedisError):
        await redis_import.import_health_workers(redis, keys, worker_text(3500).encode())
    await asyncio.sleep(0.05)
    gc.collect()
    assert not found


def test_the_cli_names_the_line_and_prints_no_traceback(
    monkeypatch: pytest.MonkeyPatch,
    key_prefix: str,
    redis: aioredis.Redis,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.conftest import TEST_REDIS_URL

    monkeypatch.setenv("USSD_REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("USSD_REDIS_KEY_PREFIX", key_prefix)
    monkeypatch.setenv("USSD_TICKETS_SIGNING_KEY", "cli-test-key")
    facilities = tmp_path / "f.csv"
    facilities.write_text(FAC_HEADER + "".join(f"{r}\n" for r in STANDARD_FACILITIES), "utf-8")
    assert cli.main(["import", "facilities", str(facilities)]) == 0
    for kind, (data, line) in FILES.items():
        path = tmp_path / "w.csv"
        path.write_bytes(data)
        capsys.readouterr()
        assert cli.main(["import", "health-workers", str(path)]) == 1, kind
        out = capsys.readouterr()
        assert f"health-workers: line {line}: " in out.err and "nothing was imported" in out.err
        assert "Traceback" not in out.err + out.out
    huge = tmp_path / "huge.csv"
    huge.write_text(worker_text(2) + f'{nik(5)},"{"x" * 140_000}",0812,x,PKM-01\n', "utf-8")
    assert cli.main(["import", "health-workers", str(huge)]) == 0
    out = capsys.readouterr().out
    assert "2 rows ok, 1 bad" in out and "line 4: unreadable row: a field is longer" in out
