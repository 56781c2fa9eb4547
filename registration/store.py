"""Opening the Redis connection from settings."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from registration.config import Config
from registration.keys import Keys


@dataclass
class RedisSettings:
    url: str = ""
    private_port: int = 6390
    private_dir: str = "var/redis"
    key_prefix: str = "vx"
    max_connections: int = 64
    socket_timeout: float = 5.0


def redis_settings(config: Config) -> RedisSettings:
    return config.load("redis", RedisSettings)


def redis_url(config: Config) -> str:
    """The configured URL, or the private development Redis when none is set."""
    settings = redis_settings(config)
    return settings.url or f"redis://127.0.0.1:{settings.private_port}/0"


def connect(config: Config) -> aioredis.Redis:
    """An asyncio Redis client (hiredis parser) whose pool makes a burst wait its turn.

    redis-py's default pool raises MaxConnectionsError once every connection is
    busy; under load that turned USSD hops into "busy" screens. The blocking pool
    queues the caller for up to ``socket_timeout`` instead.
    """
    settings = redis_settings(config)
    pool = aioredis.BlockingConnectionPool.from_url(
        redis_url(config),
        max_connections=settings.max_connections,
        timeout=settings.socket_timeout,
        socket_timeout=settings.socket_timeout,
        decode_responses=True,
        health_check_interval=30,
    )
    return aioredis.Redis(connection_pool=pool)


def keys_for(config: Config) -> Keys:
    return Keys(prefix=redis_settings(config).key_prefix)
