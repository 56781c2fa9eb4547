"""The careful half of the lean cluster client: nodes, the slot map, redirections.

:class:`ClusterNodes` keeps one :class:`FastRedis` per master and the slot map, and
:meth:`ClusterNodes.replies` sends a batch item by item to its master following
``MOVED``/``ASK``/``TRYAGAIN``/``CLUSTERDOWN``. :class:`core.redis_lean_cluster.ClusterFastRedis`
adds the fast paths and the client interface on top. See docs/redis.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from core.redis_cluster import ClusterAddress, SlotMap, node_name
from core.redis_lean import FastRedis
from core.redis_wire import Call, FastRedisError, ReplyError, ScriptLike

log = logging.getLogger(__name__)

REDIRECTS = 5  # MOVED/ASK/TRYAGAIN hops for one command before giving up
RETRY_PAUSE = 0.05  # seconds before a TRYAGAIN/CLUSTERDOWN retry
REFRESH_GAP = 0.1  # at most one slot-map read per this many seconds after a failure


def redirect(reply: object) -> tuple[str, int, str] | None:
    """("MOVED"|"ASK", slot, node), ("RETRY", 0, "") or None for an ordinary reply."""
    if not isinstance(reply, ReplyError):
        return None
    text = str(reply)
    if text.startswith(("MOVED ", "ASK ")):
        kind, slot, node = text.split()[:3]
        return kind, int(slot), node
    if text.startswith(("TRYAGAIN", "CLUSTERDOWN")):
        return "RETRY", 0, ""
    return None


class ClusterNodes:
    """Masters, their lean connections and the slot map; the careful batch path."""

    def __init__(self, address: ClusterAddress, timeout: float = 5.0) -> None:
        self.address, self.timeout = address, timeout
        self.replicas, self.replicas_timeout_ms = 0, 0
        self._nodes: dict[str, FastRedis] = {}
        self._scripts: list[ScriptLike] = []
        self._map: SlotMap | None = None
        self._stale = True
        self._refreshed_at = 0.0
        self._refreshing: asyncio.Future[SlotMap] | None = None
        self._maps = 0  # slot maps installed so far (see epoch)

    # --- nodes and the slot map -------------------------------------------------------

    def _node(self, name: str) -> FastRedis:
        node = self._nodes.get(name)
        if node is None:
            host, _, port = name.rpartition(":")
            a = self.address
            node = FastRedis.node(host, int(port), self.timeout, a.username, a.password)
            node.replicas, node.replicas_timeout_ms = self.replicas, self.replicas_timeout_ms
            node.register(*self._scripts)
            node.on_failure = self._failed
            self._nodes[name] = node
        return node

    def _failed(self, exc: BaseException) -> None:
        """A reply nobody waited for failed: a moved slot or a dead master."""
        if isinstance(exc, FastRedisError) or redirect(exc) is not None:
            self._stale = True

    async def _read_map(self) -> SlotMap:
        known = [*(self._map.masters if self._map else []), *self._nodes]
        names = list(dict.fromkeys([*known, *(node_name(h, p) for h, p in self.address.seeds)]))
        errors = []
        for name in names:
            try:
                reply = await self._node(name).execute("CLUSTER", "SLOTS")
            except (FastRedisError, ReplyError) as exc:
                errors.append(f"{name}: {exc}")
                continue
            if reply:
                return SlotMap(reply, name)
            errors.append(f"{name}: no slots")
        raise FastRedisError("no Redis Cluster node answered: " + "; ".join(errors))

    async def slot_map(self) -> SlotMap:
        """The current map; read again (once for all waiting callers) when stale."""
        if self._map is not None and not self._stale:
            return self._map
        refreshing = self._refreshing
        if refreshing is None or refreshing.get_loop() is not asyncio.get_running_loop():
            if self._map is not None and time.monotonic() - self._refreshed_at < REFRESH_GAP:
                return self._map
            refreshing = self._refreshing = asyncio.ensure_future(self._read_map())
            refreshing.add_done_callback(self._map_read)
        return await asyncio.shield(refreshing)

    def _map_read(self, fut: asyncio.Future[SlotMap]) -> None:
        if self._refreshing is fut:
            self._refreshing = None
        self._refreshed_at = time.monotonic()
        if not fut.cancelled() and fut.exception() is None:
            self._map, self._stale, self._maps = fut.result(), False, self._maps + 1

    @property
    def epoch(self) -> int:
        """Grows with every slot map read again and every reconnection to a master: a WAIT
        after it changed may run where the writes never were (FastRedis.wait_replicas). A
        first map or a master's first connection does not count (no write went before)."""
        again = sum(max(node.epoch - 1, 0) for node in self._nodes.values())
        return max(self._maps - 1, 0) * 1_000_000 + again

    # --- commands ---------------------------------------------------------------------

    async def replies(self, items: Sequence[tuple[Any, ...] | Call]) -> list[Any]:
        """Every item on its master; replies (errors in place) in the caller's order."""
        slots = await self.slot_map()
        cmds = [item.command() if isinstance(item, Call) else item for item in items]
        targets = [slots.node_for(cmd) for cmd in cmds]
        results: list[Any] = [None] * len(items)
        pending, asking = list(range(len(items))), set[int]()
        for _hop in range(REDIRECTS):
            groups: dict[str, list[int]] = {}
            for i in pending:
                groups.setdefault(targets[i], []).append(i)
            parts = [
                self._send(name, [items[i] for i in idx], idx, asking)
                for name, idx in groups.items()
            ]
            answers = [await parts[0]] if len(parts) == 1 else await asyncio.gather(*parts)
            for idx, replies in zip(groups.values(), answers, strict=True):
                for i, reply in zip(idx, replies, strict=True):
                    results[i] = reply
            pending, asking = self._redirected(results, pending, targets, slots)
            if not pending:
                break
            if any(targets[i] == "" for i in pending):
                await asyncio.sleep(RETRY_PAUSE)
                slots = await self.slot_map()
                for i in pending:
                    targets[i] = targets[i] or slots.node_for(cmds[i])
        return results

    async def _send(
        self, name: str, items: list[Any], idx: list[int], asking: set[int]
    ) -> list[Any]:
        node = self._node(name)
        try:
            if not asking.intersection(idx):
                return await node.replies(items)
            return await self._send_asking(node, items, idx, asking)
        except FastRedisError as exc:  # could not connect: a dead master, in its place
            return [exc] * len(items)

    async def _send_asking(
        self, node: FastRedis, items: list[Any], idx: list[int], asking: set[int]
    ) -> list[Any]:
        out = []  # ASK: each command right after ASKING, on the importing node
        for i, item in zip(idx, items, strict=True):
            out.append(
                (await node.replies([("ASKING",), item]))[1]
                if i in asking
                else (await node.replies([item]))[0]
            )
        return out

    def _redirected(
        self, results: list[Any], pending: list[int], targets: list[str], slots: SlotMap
    ) -> tuple[list[int], set[int]]:
        again, asking = [], set[int]()
        for i in pending:
            reply = results[i]
            if isinstance(reply, FastRedisError):
                self._stale = True  # a master may be gone: read the map before the next call
                continue
            hop = redirect(reply)
            if hop is None:
                continue
            kind, slot, node = hop
            again.append(i)
            if kind == "MOVED":
                slots.move(slot, node)
                self._stale = True
            elif kind == "ASK":
                asking.add(i)
            else:
                self._stale, node = True, ""
            targets[i] = node
        return again, asking
