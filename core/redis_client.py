"""Opening Redis connections from `[redis]`: redis-py for the cold paths, the lean client
for the hot path (see :mod:`core.redis_lean`); on a Redis Cluster, redis-py's cluster
client and :class:`core.redis_lean_cluster.ClusterFastRedis`."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from core.redis_cluster import ClusterAddress, parse_cluster_url
from core.redis_lean import FastRedis
from core.redis_lean_cluster import ClusterFastRedis
from core.settings import RedisSettings

RETRIES = 1  # times a failed command is sent again (see command_retry)


def redis_url(settings: RedisSettings) -> str:
    """The configured URL, or the private development Redis when none is set."""
    return settings.url or f"redis://127.0.0.1:{settings.private_port}/0"


def command_retry() -> Retry:
    """The one retry policy of redis-py's clients, the single-node and the cluster one: a
    command that fails on a connection error is sent once more, 0.1 s later, on a fresh
    connection.

    After a Redis restart every pooled connection is dead; without a retry each one
    failed its next command ("Connection closed by server": a 500, a 503 from
    /healthz). The risk: if Redis had run a non-idempotent command (INCR, XADD...) and
    the connection broke before its reply came, it runs twice. On a dead pooled
    connection the command never reached Redis, and a break between a command and its
    reply is rare. One retry, not redis-py's cluster default of ten: a node that is down
    makes the caller wait for each attempt, and a "busy" screen soon is better than a
    gateway timing the hop out.

    A timeout is not retried by the single-node client (Redis may well be running the
    command, and an outage would cost twice the wait). RedisCluster ignores the error
    list: it retries a fixed set (connection errors, timeouts, CLUSTERDOWN, an uncovered
    slot), so there a timed-out command can be sent twice (docs/redis.md).
    """
    return Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES, (RedisConnectionError,))


def connect(settings: RedisSettings) -> aioredis.Redis:
    """An asyncio Redis client (hiredis parser) whose pool makes a burst wait its turn.

    redis-py's default pool raises MaxConnectionsError once every connection is
    busy; under load that turned USSD hops into "busy" screens. The blocking pool
    queues the caller for up to ``socket_timeout`` instead.

    Commands are retried as :func:`command_retry` says.
    """
    if settings.is_cluster:
        return connect_cluster(settings)  # type: ignore[return-value]
    pool = aioredis.BlockingConnectionPool.from_url(
        redis_url(settings),
        max_connections=settings.max_connections,
        timeout=settings.socket_timeout,
        socket_timeout=settings.socket_timeout,
        decode_responses=True,
        health_check_interval=30,
        retry=command_retry(),
    )
    return aioredis.Redis(connection_pool=pool)


def connect_cluster(settings: RedisSettings) -> RedisCluster:
    """redis-py's cluster client: commands routed per slot, SCAN over every master; the
    retries of :func:`command_retry` (redis-py's default was ten, timeouts included)."""
    address = parse_cluster_url(redis_url(settings))
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in address.seeds],
        username=address.username,
        password=address.password,
        decode_responses=True,
        socket_timeout=settings.socket_timeout,
        max_connections=settings.max_connections,
        retry=command_retry(),
    )


def connect_lean(settings: RedisSettings) -> FastRedis:
    """The process's one pipelined hot-path connection (one per master on a cluster)."""
    lean: Any
    if settings.is_cluster:
        lean = ClusterFastRedis(parse_cluster_url(redis_url(settings)), settings.socket_timeout)
    else:
        lean = FastRedis(redis_url(settings), settings.socket_timeout)
    lean.replicas, lean.replicas_timeout_ms = settings.wait_replicas, settings.wait_timeout_ms
    return lean  # type: ignore[no-any-return]


def lean_like(client: Any) -> FastRedis:
    """A lean client for the same Redis (or Redis Cluster) as a redis-py client."""
    if isinstance(client, RedisCluster):
        nodes = client.get_nodes() or client.nodes_manager.startup_nodes.values()
        seeds = tuple((node.host, int(node.port)) for node in nodes)
        kw = client.connection_kwargs
        address = ClusterAddress(seeds, kw.get("username"), kw.get("password"))
        timeout = float(kw.get("socket_timeout") or 5.0)
        return ClusterFastRedis(address, timeout)  # type: ignore[return-value]
    kw = client.connection_pool.connection_kwargs
    host, port = kw.get("host", "127.0.0.1"), int(kw.get("port", 6379))
    timeout = float(kw.get("socket_timeout") or 5.0)
    fast = FastRedis.node(host, port, timeout, kw.get("username"), kw.get("password"))
    fast.db = int(kw.get("db", 0) or 0)
    return fast


def lean_for_waits(lean: FastRedis) -> FastRedis:
    """The client for writes that WAIT for replicas: ``lean`` itself when ``[redis]
    wait_replicas`` is off, else another lean client (its own connection per master) to
    the same Redis or Redis Cluster with the same WAIT settings. A WAIT holds its
    connection until the replicas answer, and Redis runs a connection's commands in order:
    on a shared one every other caller would queue behind it. Scripts are registered by
    its user; the caller closes it when it is not ``lean``."""
    if not lean.replicas:
        return lean
    twin: Any
    if isinstance(lean, ClusterFastRedis):
        twin = ClusterFastRedis(lean.address, lean.timeout)
    else:
        twin = FastRedis.node(lean.host, lean.port, lean.timeout, lean.username, lean.password)
        twin.db = lean.db
    twin.replicas, twin.replicas_timeout_ms = lean.replicas, lean.replicas_timeout_ms
    return twin  # type: ignore[no-any-return]
