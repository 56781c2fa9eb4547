"""An upload that finds another health-worker import running waits at most
``[registration] import_wait_seconds``, then gives up with a clear answer naming when the
other started: the operator API answers 409, the CLI prints one line and exits 75. It
used to wait as long as the other kept renewing its lock: for a whole hour-long import.

Two real imports against real Redis: the running one reads a slow source and goes on
writing (and renewing its lock) until the test lets it end; the API over real HTTP, the
CLI as a process of its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from registration import importer, redis_import
from registration.models import ImportReport
from registration.service import Registry
from tests.conftest import make_test_config, test_redis_url
from tests.keys import AllKeys
from tests.test_registration_support import (
    STANDARD_FACILITIES,
    WORKER_HEADER,
    FakeClock,
    facilities_csv,
    nik,
)
from tests.ussd_harness import running_server

WAIT = {"USSD_REGISTRATION_IMPORT_WAIT_SECONDS": "0.5"}
GUARD = 20  # seconds: an upload still waiting by then would wait for the other's end
LATE = nik(9999, birth="3112")  # the worker of the upload that finds the other running
UPLOAD = f"{WORKER_HEADER}{LATE},Siti Terlambat,081277770001,Bidan,PKM-01\n"
BUSY = "another health-worker import is running, started 20"
ROOT = Path(__file__).resolve().parent.parent


def _slow_rows(released: asyncio.Event) -> Iterator[str]:
    """Lines as a slow disk gives them (the event loop runs between reads) until
    ``released``: 600 workers (written in batches as they come), then blank lines."""
    yield WORKER_HEADER
    for i in range(1_000_000):
        if released.is_set():
            return
        if i % 50 == 0:
            time.sleep(0.01)
        yield f"{nik(i)},Pekerja {i},0812{i:08d},Perawat,PKM-01\n" if i < 600 else "\n"


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """The running import writes its rows as they come, a batch every 100."""
    monkeypatch.setattr(importer, "BATCH_ROWS", 100)


@asynccontextmanager
async def another_import(
    redis: aioredis.Redis, keys: AllKeys
) -> AsyncIterator[asyncio.Task[ImportReport]]:
    """A health-worker import running (holding the import lock) until the block ends."""
    released = asyncio.Event()
    task = asyncio.create_task(
        redis_import.import_health_workers(redis, keys, _slow_rows(released))
    )
    while not await redis.exists(keys.worker_import_lock()):
        assert not task.done(), task
        await asyncio.sleep(0.01)
    try:
        yield task
    finally:
        released.set()
        await asyncio.wait_for(task, GUARD)


async def test_an_upload_gives_up_after_the_wait_saying_since_when_the_other_runs(
    redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> None:
    config = make_test_config(key_prefix, environ=WAIT)
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    registry = Registry.from_config(config, redis, clock=FakeClock())
    try:
        before = time.time()
        async with another_import(redis, keys) as first:
            with pytest.raises(Exception, match=BUSY) as refused:
                await asyncio.wait_for(registry.import_health_workers(UPLOAD.encode()), GUARD)
            assert before - 1 <= refused.value.started <= time.time()  # type: ignore[attr-defined]
            assert not first.done()  # the other goes on
            assert not await redis.exists(keys.worker(LATE))  # nothing of this one written
        report = await first
        assert report.rows_ok > 0 and report.rows_bad == 0
        # The other one ended: the same upload goes through.
        assert (await registry.import_health_workers(UPLOAD.encode())).rows_ok == 1
        assert await redis.hget(keys.worker(LATE), "phone") == "6281277770001"
    finally:
        await registry.aclose()


async def test_the_operator_api_answers_409_and_the_cli_one_line_while_another_runs(
    redis: aioredis.Redis,
    keys: AllKeys,
    key_prefix: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = make_test_config(key_prefix, environ=WAIT)
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    (tmp_path / "w.csv").write_text(UPLOAD, "utf-8")
    url, headers = "/api/health-workers", {
        "Authorization": "Bearer test-operator-token", "Content-Type": "text/csv",
    }  # fmt: skip
    timeout = aiohttp.ClientTimeout(total=GUARD)
    async with running_server(config) as base, aiohttp.ClientSession(timeout=timeout) as http:
        async with another_import(redis, keys):
            async with http.post(base + url, data=UPLOAD.encode(), headers=headers) as resp:
                assert resp.status == 409, await resp.text()
                assert (await resp.json())["error"].startswith(BUSY)
            cli = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "ussd_server", "import", "health-workers",
                str(tmp_path / "w.csv"), env=_cli_env(key_prefix), cwd=ROOT,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(cli.communicate(), GUARD)
            lines = err.decode().splitlines()
            assert cli.returncode == 75 and out == b"", (out, err)
            assert len(lines) == 1 and lines[0].startswith(f"health-workers: {BUSY}"), lines
            assert not await redis.exists(keys.worker(LATE))
        async with http.post(base + url, data=UPLOAD.encode(), headers=headers) as resp:
            assert resp.status == 200 and (await resp.json())["rows_ok"] == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def _cli_env(key_prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "USSD_CONFIG"}
    return {
        **env,
        **WAIT,
        "USSD_REDIS_URL": test_redis_url(),
        "USSD_REDIS_KEY_PREFIX": key_prefix,
        "USSD_TICKETS_SIGNING_KEY": "cli-test-key",
    }
