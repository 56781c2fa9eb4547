"""The Registry on either kind of stores, for the contract tests (fixture ``backend``).

The same test body runs against the Redis stores and the memory stores: what it
asserts is the domain's contract, not how one store keeps it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import redis.asyncio as aioredis

from core.config import Config
from core.settings import redis_settings
from registration.keys import RegistryKeys
from registration.memory import memory_stores
from registration.redis_stores import redis_stores
from registration.rules import Rules
from registration.service import Registry
from registration.stores import Stores

# Wednesday 13 January 2021, 10:00 in Jakarta (WIB, UTC+7): the window starts on the 14th.
START = datetime(2021, 1, 13, 3, 0, tzinfo=UTC).timestamp()


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Backend:
    """One kind of stores: ``registry`` on them, more Registries (or bare stores) on the
    same data."""

    name: str
    registry: Registry
    stores: Stores

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._opened: list[Registry] = []

    def reconfigured(self, config: Config) -> Registry:
        """Another Registry (another process, say) with other settings, on the same data."""
        raise NotImplementedError

    async def wait(self, seconds: float) -> None:
        """Let time pass for everything that keeps time (our clock; Redis's own, too)."""
        self.clock.advance(seconds)

    async def aclose(self) -> None:
        for registry in [self.registry, *self._opened]:
            await registry.aclose()
        await self.stores.backend.aclose()


class MemoryBackend(Backend):
    name = "memory"

    def __init__(self, config: Config, clock: FakeClock) -> None:
        super().__init__(clock)
        self.stores: Stores = memory_stores(clock)
        self.registry = self.reconfigured(config)

    def reconfigured(self, config: Config) -> Registry:
        return Registry(self.stores, Rules.from_config(config, self.clock), clock=self.clock)


class RedisBackend(Backend):
    name = "redis"

    def __init__(self, config: Config, clock: FakeClock, client: aioredis.Redis) -> None:
        super().__init__(clock)
        self.client = client
        self.registry = Registry.from_config(config, client, clock=clock)
        keys = RegistryKeys(redis_settings(config).key_prefix)
        self.stores = redis_stores(client, keys, clock)[0]  # as another process would

    def reconfigured(self, config: Config) -> Registry:
        registry = Registry.from_config(config, self.client, clock=self.clock)
        self._opened.append(registry)
        return registry

    async def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await asyncio.sleep(seconds)  # lockouts expire on Redis's clock
