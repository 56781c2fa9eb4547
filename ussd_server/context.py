"""The whole service for one process, built in one place.

:func:`build_context` is what `serve` (each HTTP worker), `sms-worker`, `blast run`
and the tests call: one redis-py pool for the cold paths, one lean pipelined
connection for the hot path (shared by the Registry, the dialogue and the
outbox), the Registry facade (counting each day's bookings per channel for the
dashboard: :mod:`ussd_server.activity`) and the dialogue engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from core.config import Config
from core.keys import OutboxKeys
from core.outbox import Outbox
from core.redis_client import connect, connect_lean
from core.redis_lean import FastRedis
from core.settings import redis_settings
from dialogue.engine import Engine
from dialogue.keys import DialogueKeys
from dialogue.session_redis import RedisSessionStore
from registration.service import Registry
from ussd_server.activity import ActivityCounters, CountingRegistry
from ussd_server.settings import check_every_setting


@dataclass
class AppContext:
    config: Config
    redis: aioredis.Redis
    lean: FastRedis
    outbox: Outbox
    registry: Registry
    engine: Engine
    activity: ActivityCounters
    # Per-process caches of the shell (the operator token, ...).
    extras: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def key_prefix(self) -> str:
        return redis_settings(self.config).key_prefix

    async def aclose(self) -> None:
        await self.registry.aclose()
        await self.lean.aclose()
        await self.redis.aclose()


def build_context(config: Config) -> AppContext:
    """Everything one process needs; connections open lazily on first use. Every setting
    is checked first: a wrong one stops the start with its name."""
    check_every_setting(config)
    settings = redis_settings(config)
    redis, lean = connect(settings), connect_lean(settings)
    outbox = Outbox(lean, OutboxKeys(settings.key_prefix))
    registry = CountingRegistry.from_config(config, redis, fast=lean)
    activity = registry.activity = ActivityCounters.from_config(config, lean)
    sessions = RedisSessionStore(lean, DialogueKeys(settings.key_prefix))
    engine = Engine.from_config(config, registry, sessions, outbox=outbox)
    return AppContext(config, redis, lean, outbox, registry, engine, activity)


CONTEXT: web.AppKey[AppContext] = web.AppKey("context", AppContext)
