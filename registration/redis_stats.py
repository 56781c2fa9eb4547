"""Statistics counters in one Redis hash (`RegistryKeys.stats()`, :class:`StatsStore`).

Fields are ``status:<name>`` (overall) and ``regency:<regency>:<name>``. Moves go over
the lean connection without waiting for the reply (no round trip on a hop); a read
first waits until Redis has run everything this process sent (a barrier), then
reads over redis-py.
"""

from __future__ import annotations

import redis.asyncio as aioredis

from core.redis_lean import FastRedis
from registration.keys import RegistryKeys
from registration.stores import CounterSnapshot, Moves


class RedisStats:
    def __init__(self, redis: aioredis.Redis, fast: FastRedis, keys: RegistryKeys) -> None:
        self._redis, self._fast, self._keys = redis, fast, keys

    async def count(self, regency: str, moves: Moves) -> None:
        key = self._keys.stats()
        commands: list[tuple[str, str, str, int]] = []
        for status, by in moves:
            commands.append(("HINCRBY", key, f"status:{status}", by))
            if regency:
                commands.append(("HINCRBY", key, f"regency:{regency}:{status}", by))
        await self._fast.send_nowait(*commands)

    async def read(self) -> CounterSnapshot:
        await self._fast.barrier()  # the moves this process sent without waiting are in
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._keys.stats())
            pipe.scard(self._keys.all_workers())
            pipe.scard(self._keys.facilities())
            raw, workers, facilities = await pipe.execute()
        counters: dict[tuple[str, str], int] = {}
        for field, value in raw.items():
            kind, _, rest = field.partition(":")
            if kind == "status":
                counters["", rest] = int(value)
            elif kind == "regency":
                regency, _, status = rest.rpartition(":")
                counters[regency, status] = int(value)
        return CounterSnapshot(int(workers), int(facilities), counters)
