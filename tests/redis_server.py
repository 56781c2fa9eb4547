"""A redis-server of a test's own, on a free port, so that the test may kill and restart it.

Built on the same `PrivateRedis` that `make run` uses; the shared Redis on 6379 is
never stopped or flushed by a test.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from devtools.private_redis import PrivateRedis

needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs a redis-server binary"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def own_redis(directory: Path, *, appendonly: bool = False, port: int = 0) -> PrivateRedis:
    """A started redis-server on ``port`` (a free one by default); ``.stop()`` it after."""
    server = PrivateRedis(port=port or free_port(), data_dir=directory, appendonly=appendonly)
    server.start()
    return server
