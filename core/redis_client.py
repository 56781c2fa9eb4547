"""Opening Redis connections from `[redis]`: redis-py for the cold paths, the lean client
for the hot path (see :mod:`core.redis_lean`)."""

from __future__ import annotations

import redis.asyncio as aioredis

from core.redis_lean import FastRedis
from core.settings import RedisSettings


def redis_url(settings: RedisSettings) -> str:
    """The configured URL, or the private development Redis when none is set."""
    return settings.url or f"redis://127.0.0.1:{settings.private_port}/0"


def connect(settings: RedisSettings) -> aioredis.Redis:
    """An asyncio Redis client (hiredis parser) whose pool makes a burst wait its turn.

    redis-py's default pool raises MaxConnectionsError once every connection is
    busy; under load that turned USSD hops into "busy" screens. The blocking pool
    queues the caller for up to ``socket_timeout`` instead.
    """
    pool = aioredis.BlockingConnectionPool.from_url(
        redis_url(settings),
        max_connections=settings.max_connections,
        timeout=settings.socket_timeout,
        socket_timeout=settings.socket_timeout,
        decode_responses=True,
        health_check_interval=30,
    )
    return aioredis.Redis(connection_pool=pool)


def connect_lean(settings: RedisSettings) -> FastRedis:
    """The process's one pipelined hot-path connection (opened on first use)."""
    return FastRedis(redis_url(settings), settings.socket_timeout)
