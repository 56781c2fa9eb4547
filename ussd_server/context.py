"""What one server process shares between its handlers (held in an aiohttp AppKey)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from registration.config import Config
from registration.keys import Keys


@dataclass
class AppContext:
    config: Config
    redis: aioredis.Redis
    keys: Keys
    # The registration facade (registration.service.Registry) and the dialogue
    # engine (dialogue.engine.Engine); typed loosely here to keep imports one-way.
    registry: Any = None
    engine: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


CONTEXT: web.AppKey[AppContext] = web.AppKey("context", AppContext)
