"""The lean hot-path client on a Redis Cluster: one pipelined :class:`FastRedis` per master.

Each command and script call goes to the master that owns its key's slot (see
:mod:`core.redis_cluster`). A batch is split per master and the parts are sent at
the same time; replies come back in the caller's order. Redirections are followed:
``MOVED`` updates the slot and asks for a fresh map before the next call, ``ASK``
sends ``ASKING`` and the command to the importing node, ``TRYAGAIN`` and
``CLUSTERDOWN`` retry after a short pause. A lost connection (a master killed) is not
retried, because the command may have run: its caller gets :class:`FastRedisError` as
on a single Redis, and the slot map is read again before the next command, so once a
replica has been promoted the same process carries on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from core.redis_cluster import key_slot
from core.redis_cluster_nodes import ClusterNodes, redirect
from core.redis_lean import FastRedis
from core.redis_wire import (
    Call,
    FastRedisError,
    ReplyError,
    ScriptLike,
    is_noscript,
    raise_first_error,
)


class ClusterFastRedis(ClusterNodes):
    """The :class:`FastRedis` interface over every master of a cluster."""

    spans_nodes = True  # a batch's parts run on several masters, in no set order

    def _direct(self, cmd: tuple[Any, ...]) -> FastRedis | None:
        """The master for ``cmd`` when the map is fresh and its connection known (fast path)."""
        slots = self._map
        if slots is None or self._stale:
            return None
        return self._nodes.get(slots.node_for(cmd))

    async def execute(self, *cmd: Any) -> Any:
        node = self._direct(cmd)
        if node is not None:  # the usual case: straight to the node, no bookkeeping
            try:
                return await node.execute(*cmd)
            except ReplyError as exc:
                if redirect(exc) is None:
                    raise
            except FastRedisError:
                self._stale = True
                raise
        reply = (await self.replies([cmd]))[0]
        if isinstance(reply, BaseException):
            raise reply
        return reply

    async def batch(self, items: Sequence[tuple[Any, ...] | Call]) -> list[Any]:
        """Commands and script calls, each on its master, sent at once; raises the first error."""
        return raise_first_error(await self._batch_replies(items))

    async def _batch_replies(self, items: Sequence[tuple[Any, ...] | Call]) -> list[Any]:
        """With a fresh map and live connections, every part is queued on its master at
        once, without a task per part (fast path); anything unusual takes :meth:`replies`."""
        slots = self._map
        if slots is None or self._stale:
            return await self.replies(items)
        cmds = [item.command() if isinstance(item, Call) else item for item in items]
        groups: dict[str, list[int]] = {}
        for i, cmd in enumerate(cmds):
            groups.setdefault(slots.node_for(cmd), []).append(i)
        nodes = [self._nodes.get(name) for name in groups]
        if any(node is None or node.queue_now([]) is None for node in nodes):
            return await self.replies(items)  # not connected yet
        queued = [
            node.queue_now([cmds[i] for i in idx])  # type: ignore[union-attr]
            for node, idx in zip(nodes, groups.values(), strict=True)
        ]
        results: list[Any] = [None] * len(items)
        for node, idx, futures in zip(nodes, groups.values(), queued, strict=True):
            replies = await FastRedis.collect(futures)  # type: ignore[arg-type]
            unknown = [k for k, reply in enumerate(replies) if is_noscript(reply)]
            if unknown:  # the node lost its scripts (restart, failover): load and rerun
                again = await node.replies([items[idx[k]] for k in unknown])  # type: ignore[union-attr]
                for k, reply in zip(unknown, again, strict=True):
                    replies[k] = reply
            for i, reply in zip(idx, replies, strict=True):
                results[i] = reply
        if any(isinstance(r, FastRedisError) for r in results):
            self._stale = True  # not retried: those commands may have run
        redo = [i for i, reply in enumerate(results) if redirect(reply)]
        if redo:
            self._stale = True
            for i, reply in zip(redo, await self.replies([items[i] for i in redo]), strict=True):
                results[i] = reply
        return results

    async def execute_many(self, *cmds: tuple[Any, ...]) -> list[Any]:
        return await self.batch(list(cmds))

    async def evalsha(self, script: ScriptLike, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        return (await self.batch([Call(script, keys, args)]))[0]

    async def send_nowait(self, *cmds: tuple[Any, ...]) -> None:
        """Each command queued on its master's connection; failures are logged."""
        slots = await self.slot_map()
        groups: dict[str, list[tuple[Any, ...]]] = {}
        for cmd in cmds:
            groups.setdefault(slots.node_for(cmd), []).append(cmd)
        try:
            for name, group in groups.items():
                await self._node(name).send_nowait(*group)
        except FastRedisError:
            self._stale = True
            raise

    async def barrier(self) -> None:
        """Every master has run every command sent to it so far."""
        slots = await self.slot_map()
        try:
            await asyncio.gather(*(self._node(name).barrier() for name in slots.masters))
        except FastRedisError:
            self._stale = True
            raise

    async def wait_replicas(self, *keys: str, since: int | None = None) -> None:
        """WAIT on each master owning one of ``keys`` (see :meth:`FastRedis.wait_replicas`);
        with ``since``, fails when the map or a connection changed after the writes."""
        if self.replicas:
            slots = await self.slot_map()
            names = {slots.owners[key_slot(key)] for key in keys}
            try:
                await asyncio.gather(*(self._node(name).wait_replicas() for name in names))
            except FastRedisError:
                self._stale = True
                raise
            if since is not None and self.epoch != since:
                raise FastRedisError("the cluster changed since the writes: replication unknown")

    def register(self, *scripts: ScriptLike) -> None:
        self._scripts.extend(scripts)
        for node in self._nodes.values():
            node.register(*scripts)

    async def load_scripts(self) -> None:
        slots = await self.slot_map()
        await asyncio.gather(*(self._node(name).load_scripts() for name in slots.masters))

    async def aclose(self) -> None:
        for node in self._nodes.values():
            await node.aclose()
        self._nodes.clear()


__all__ = ["ClusterFastRedis"]
