"""The registry import's raw RESP writer on a Redis Cluster: one connection per master.

Each pre-encoded command comes with its key (:meth:`ClusterBulk.run_parts`); the
commands are grouped by the master that owns the key's slot (redis-py's cluster
client keeps the slot map), each group goes out in one write, all groups at once,
and the replies come back in the caller's order. A slot moved during an import
(a resharding or a failover) makes that batch fail with :class:`BulkError`; the
import is idempotent, so running it again finishes it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from core.redis_bulk import BulkConnection, BulkError, resp
from core.redis_cluster import key_slot

__all__ = ["BulkError", "ClusterBulk", "open_bulk", "resp"]


class ClusterBulk:
    """:class:`BulkConnection`'s ``run_parts`` over every master of a cluster."""

    def __init__(self, cluster: RedisCluster, conns: dict[str, BulkConnection]) -> None:
        self._cluster, self._conns = cluster, conns

    @classmethod
    async def open(cls, cluster: RedisCluster) -> ClusterBulk:
        await cluster.initialize()
        kw = cluster.get_connection_kwargs()
        conns = {}
        for node in cluster.get_primaries():
            conns[node.name] = await BulkConnection.connect(
                node.host, int(node.port), kw.get("username"), kw.get("password"), 0
            )
        return cls(cluster, conns)

    def _owner(self, key: str) -> str:
        node = self._cluster.nodes_manager.get_node_from_slot(key_slot(key))
        return str(node.name)

    async def run_parts(self, parts: list[tuple[str, str]]) -> list[Any]:
        groups: dict[str, list[int]] = {}
        for i, (key, _) in enumerate(parts):
            groups.setdefault(self._owner(key), []).append(i)
        missing = set(groups) - set(self._conns)
        if missing:
            raise BulkError(f"the cluster's masters changed during the import: {missing}")
        answers = await asyncio.gather(
            *(
                self._conns[name].run("".join(parts[i][1] for i in idx), len(idx))
                for name, idx in groups.items()
            )
        )
        replies: list[Any] = [None] * len(parts)
        for idx, got in zip(groups.values(), answers, strict=True):
            for i, reply in zip(idx, got, strict=True):
                replies[i] = reply
        return replies

    async def close(self) -> None:
        for conn in self._conns.values():
            await conn.close()


async def open_bulk(redis: aioredis.Redis | RedisCluster) -> BulkConnection | ClusterBulk | None:
    """The raw writer for this client: per master on a cluster; None = use redis-py."""
    if isinstance(redis, RedisCluster):
        return await ClusterBulk.open(redis)
    return await BulkConnection.open(redis)
