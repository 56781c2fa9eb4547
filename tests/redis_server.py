"""A redis-server of a test's own, on a free port, so that the test may kill and restart it.

Built on the same `PrivateRedis` that `make run` uses; the shared Redis on 6379 is
never stopped or flushed by a test.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import pytest
import redis.asyncio as aioredis

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


async def replicate(primary: PrivateRedis, replica: PrivateRedis) -> None:
    """Make ``replica`` a replica of ``primary`` and wait until the primary sees it online."""
    admin = aioredis.Redis.from_url(primary.url, decode_responses=True)
    follower = aioredis.Redis.from_url(replica.url, decode_responses=True)
    try:
        await follower.replicaof("127.0.0.1", primary.port)
        for _ in range(200):  # the replica connects and syncs (empty data: at once)
            if "online" in str((await admin.info("replication")).get("slave0", "")):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("the replica did not come online")
    finally:
        await admin.aclose()
        await follower.aclose()
