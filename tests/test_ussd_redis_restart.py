"""Redis goes away mid-journey: hops get a polite "busy" END, and the server recovers.

Uses its own redis-server on a free port (never the shared one), killed and
restarted by the test.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from registration.store import connect, keys_for
from tests.conftest import make_test_config
from tests.ussd_harness import PHONE, AtPhone, load_registry, running_server

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "yes", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


async def test_busy_screen_while_redis_is_down_then_recovery(tmp_path, key_prefix):
    port = free_port()
    proc = start_redis(port, tmp_path)
    try:
        config = make_test_config(key_prefix, **{"redis.url": f"redis://127.0.0.1:{port}/0"})
        client = connect(config)
        await load_registry(client, keys_for(config))
        await client.aclose()
        async with running_server(config) as base, aiohttp.ClientSession() as http:
            phone = AtPhone(http, base, PHONE, "rr-1")
            assert "Daftar vaksinasi" in await phone.dial()
            assert "tenaga kesehatan" in await phone.send("1")
            proc.terminate()
            proc.wait(timeout=10)
            busy = await phone.send("1")
            assert phone.ended and "sibuk" in busy
            proc = start_redis(port, tmp_path)  # append-only file: the session is back
            phone.inputs.pop()
            assert "6 digit terakhir NIK" in await phone.send("1")
    finally:
        proc.kill()
        proc.wait(timeout=10)
