"""The SMS benchmarks' peers: the lean development SMSC, Redis's CPU, seeded workers."""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from devtools.smsc_process import SimProcess
from registration.keys import RegistryKeys
from smpp.keys import SmsKeys


async def redis_cpu(redis: aioredis.Redis) -> float:
    """CPU seconds of the Redis server (of every node of a cluster)."""
    if isinstance(redis, RedisCluster):
        info = await redis.info("cpu", target_nodes=RedisCluster.ALL_NODES)
    else:
        info = await redis.info("cpu")
    nodes = [v for v in info.values() if isinstance(v, dict)] or [info]
    return sum(float(n["used_cpu_user"]) + float(n["used_cpu_sys"]) for n in nodes)


class Smsc(SimProcess):
    """A lean simulator (counts only, no receipts) with a blocking control client."""

    @classmethod
    def lean(cls, *args: str) -> Smsc:
        return cls.start("--lean", "--no-receipts", *args)

    def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.control_url}{path}",
            data=data,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())


@dataclasses.dataclass(frozen=True)
class Keys(RegistryKeys, SmsKeys):
    """The registry's keys (seeded here) and the SMS channel's (the campaign)."""


GROUPS = 10  # worker i works at facility F<i % GROUPS>: a tenth of them by filter


async def seed(redis: aioredis.Redis, keys: Keys, n: int) -> None:
    for start in range(0, n, 5000):
        async with redis.pipeline(transaction=False) as pipe:
            for i in range(start, min(start + 5000, n)):
                nik = f"32010141{i:08d}"
                pipe.sadd(keys.all_workers(), nik)
                pipe.hset(
                    keys.worker(nik),
                    mapping={
                        "nik": nik,
                        "full_name": f"Siti Rahmawati {i}",
                        "phone": f"628{i:010d}",
                        "profession": "bidan",
                        "facility_id": f"F{i % GROUPS}",
                    },
                )
            await pipe.execute()
