"""The cluster client (redis-py's RedisCluster, the cold paths) retries a failed command
once, as the single-node client does (``core.redis_client.command_retry``).

Before, it kept redis-py's defaults: ten retries, timeouts included. A master that had
stopped answering got every write of a cold path eleven times (each run once the node
came back) and held the caller for eleven socket timeouts. One retry is still enough for
the first command after a node restart, whose pooled connections are all dead.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.redis_client import connect
from core.settings import redis_settings
from devtools.local_cluster import LocalCluster
from tests.conftest import make_test_config

pytestmark = pytest.mark.cluster
POOLED = 16  # connections opened to the key's master before it stops answering


@pytest.fixture
async def client(redis_cluster: LocalCluster, key_prefix: str) -> AsyncIterator[RedisCluster]:
    config = make_test_config(
        key_prefix, **{"redis.url": redis_cluster.url, "redis.socket_timeout": 0.5}
    )
    client = connect(redis_settings(config))
    try:
        yield client  # type: ignore[misc]
    finally:
        await client.aclose()


async def test_a_failed_command_is_sent_once_more_and_no_more(
    redis_cluster: LocalCluster, client: RedisCluster, key_prefix: str
) -> None:
    key = f"{key_prefix}:{{retry}}:count"
    await client.set(key, 0)
    port = int(client.get_node_from_key(key).port)

    # A restarted master: the pooled connection is dead, the retry's fresh one answers.
    redis_cluster.kill(port)
    redis_cluster.restart_master(port)
    assert await client.set(key, 0) is True

    # A master that does not answer (stopped): every attempt of an INCR reaches its
    # socket (the pool has connections ready), and Redis runs each once it goes on.
    await asyncio.gather(*(client.get(key) for _ in range(POOLED)))
    master = redis_cluster.processes[port]
    master.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(RedisTimeoutError):
            await client.incr(key)
    finally:
        master.send_signal(signal.SIGCONT)
    redis_cluster.wait_ok()
    ran = int(await client.get(key))
    await client.delete(key)
    # RedisCluster retries a timeout too (its retried errors are fixed): once plus one
    # retry. The single-node client would have sent it once.
    assert 1 <= ran <= 2, f"the INCR ran {ran} times"
