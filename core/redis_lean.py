"""A lean pipelined Redis client for the hot path (dialogue sessions and the Registry).

Why not redis-py here: a USSD hop does a handful of tiny commands, and redis-py spends
far more CPU per command (pool checkout, retry and timeout wrappers, command packing in
Python: 37-48 us) than the engine spends on the whole hop. This client keeps ONE
connection per process, writes every command as soon as it is issued (concurrent callers
share the socket: natural pipelining), packs with hiredis and matches replies to waiters
in order (~5 us per command).

Scripts (EVALSHA, reloaded on NOSCRIPT and on every new connection), the watchdog and
the errors are described in docs/redis.md. A Redis Cluster gets one of these per master
(:mod:`core.redis_lean_cluster`); everything else keeps using redis-py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlparse

import hiredis

from core.redis_wait import wait_for_replicas
from core.redis_wire import (
    Call,
    Commands,
    FastRedisError,
    ReplyError,
    RespProtocol,
    Script,
    ScriptLike,
    as_dict,
    consume,
    is_noscript,
    raise_first_error,
)

__all__ = [
    "Call",
    "Commands",
    "FastRedis",
    "FastRedisError",
    "ReplyError",
    "Script",
    "ScriptLike",
    "as_dict",
]

log = logging.getLogger(__name__)


class FastRedis:
    """Commands, batches and scripts over one pipelined connection (lazily opened)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 6379
        self.db = int(parsed.path.lstrip("/") or 0)
        self.password = unquote(parsed.password) if parsed.password else None
        self.username = unquote(parsed.username) if parsed.username else None
        self.timeout = timeout
        self._scripts: dict[str, str | bytes] = {}  # sha -> body, loaded on every connect
        self._proto: RespProtocol | None = None
        self._connecting: asyncio.Future[RespProtocol] | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self.replicas, self.replicas_timeout_ms = 0, 0  # [redis] wait_replicas: see there
        self.epoch = 0  # connections made so far: see wait_replicas
        # Told about every failed reply nobody waited for (the cluster client's map).
        self.on_failure: Callable[[BaseException], None] | None = None

    @classmethod
    def node(
        cls, host: str, port: int, timeout: float, user: str | None, pw: str | None
    ) -> FastRedis:
        """A lean client for one server: a cluster node (see also redis_client.lean_like)."""
        fast = cls("redis://", timeout)
        fast.host, fast.port, fast.username, fast.password = host, port, user, pw
        return fast

    async def wait_replicas(self, *keys: str, since: int | None = None) -> None:
        """After writes that must survive a failover: WAIT for ``replicas`` (0: off) replicas.

        WAIT covers the writes sent on its connection (``keys``: their masters on a cluster);
        ``since`` (:attr:`epoch` read after the writes) fails one that ran on a newer
        connection. FastRedisError when it fails or times out: do not confirm the writes."""
        if self.replicas:
            await wait_for_replicas(self, since)

    # --- connection ----------------------------------------------------------------

    async def _connect(self) -> RespProtocol:
        loop = asyncio.get_running_loop()
        try:
            _, proto = await asyncio.wait_for(
                loop.create_connection(RespProtocol, self.host, self.port), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise FastRedisError(
                f"cannot connect to Redis {self.host}:{self.port}: {exc}"
            ) from None
        setup: list[tuple[Any, ...]] = []
        if self.password:
            auth = ("AUTH", self.username, self.password) if self.username else None
            setup.append(auth or ("AUTH", self.password))
        if self.db:
            setup.append(("SELECT", str(self.db)))
        # A new connection may mean a restarted Redis with an empty script cache.
        setup += [("SCRIPT", "LOAD", body) for body in self._scripts.values()]
        futures = [self._send(proto, cmd) for cmd in setup]
        try:
            await asyncio.wait_for(asyncio.gather(*futures), self.timeout)
        except (ReplyError, FastRedisError, TimeoutError) as exc:  # e.g. LOADING, bad password
            proto.transport.abort()  # type: ignore[union-attr]
            raise FastRedisError(f"Redis {self.host}:{self.port} not ready: {exc}") from None
        return proto

    async def _ready(self) -> RespProtocol:
        if (proto := self._live()) is not None:
            return proto
        connecting = self._connecting
        if connecting is None or connecting.get_loop() is not asyncio.get_running_loop():
            # One connect attempt shared by every waiting caller.
            connecting = self._connecting = asyncio.ensure_future(self._connect())
            connecting.add_done_callback(self._connected)
        return await asyncio.shield(connecting)

    def _connected(self, fut: asyncio.Future[RespProtocol]) -> None:
        if self._connecting is fut:
            self._connecting = None
        if not fut.cancelled() and fut.exception() is None:
            self._proto, self.epoch = fut.result(), self.epoch + 1

    @staticmethod
    def _send(proto: RespProtocol, cmd: tuple[Any, ...]) -> asyncio.Future[Any]:
        # Encode before queueing the reply's waiter: a command that cannot be encoded
        # raises here and leaves the connection's reply order untouched.
        packed = hiredis.pack_command(cmd)
        fut = proto.loop.create_future()
        proto.queue(packed)
        proto.waiters.append((time.monotonic(), fut))
        return fut

    def _check(self) -> None:
        """Drop a connection whose oldest reply is overdue: its waiters get FastRedisError."""
        self._watchdog = None
        proto = self._proto
        if proto is None or proto.lost:
            return  # the next connection starts a new watchdog
        if proto.waiters and time.monotonic() - proto.waiters[0][0] > self.timeout:
            proto.transport.abort()  # type: ignore[union-attr]
            return
        self._watchdog = proto.loop.call_later(self.timeout / 2, self._check)

    def _live(self) -> RespProtocol | None:
        """The connection when it is up and of this event loop, else None."""
        proto = self._proto
        # "Its loop is running" stands for "its loop is this one" (one loop runs per
        # thread): Python 3.11's get_running_loop() costs a getpid() system call, and
        # this runs for every command.
        if proto is None or proto.lost or not proto.loop.is_running():
            return None
        return proto

    async def _proto_ready(self) -> RespProtocol:
        proto = self._live()
        if proto is None:
            proto = await self._ready()
            if self._watchdog is not None:  # maybe from an earlier event loop
                self._watchdog.cancel()
            self._watchdog = proto.loop.call_later(self.timeout / 2, self._check)
        return proto

    # --- commands ------------------------------------------------------------------

    async def execute(self, *cmd: Any) -> Any:
        proto = self._live() or await self._proto_ready()  # no coroutine when connected
        return await self._send(proto, cmd)

    async def execute_many(self, *cmds: tuple[Any, ...]) -> list[Any]:
        """Several commands in one write (not a transaction); all replies, in order.

        Raises the first error, after every reply has arrived.
        """
        return raise_first_error(await self._raw_batch(list(cmds)))

    async def send_nowait(self, *cmds: tuple[Any, ...]) -> None:
        """Queue commands whose replies nobody waits for (best-effort counters).

        Later commands on this client run after them (one connection, in order), so a
        read through this client, or after :meth:`barrier`, sees their effect. Failures
        are logged, not raised.
        """
        packed = [hiredis.pack_command(cmd) for cmd in cmds]  # all or nothing, before waiters
        proto = self._live() or await self._proto_ready()
        now = time.monotonic()
        for data in packed:
            fut = proto.loop.create_future()
            fut.add_done_callback(self._log_failure)
            proto.waiters.append((now, fut))
            proto.queue(data)

    def _log_failure(self, fut: asyncio.Future[Any]) -> None:
        if (exc := None if fut.cancelled() else fut.exception()) is not None:
            log.warning("Redis command sent without waiting failed: %s", exc)
            if self.on_failure is not None:
                self.on_failure(exc)

    async def barrier(self) -> None:
        """Return once Redis has run every command sent on this client so far."""
        await self.execute("PING")

    async def _raw_batch(self, cmds: list[tuple[Any, ...]]) -> list[Any]:
        """Replies in order; an error (reply or lost connection) is returned in its place."""
        packed = [hiredis.pack_command(cmd) for cmd in cmds]  # all or nothing, before waiters
        proto = self._live() or await self._proto_ready()
        return await self.collect(self._queue(proto, packed))

    def queue_now(self, cmds: list[tuple[Any, ...]]) -> list[asyncio.Future[Any]] | None:
        """Queue commands at once on a live connection (None: not connected, use a batch)."""
        proto = self._live()
        if proto is None:
            return None
        return self._queue(proto, [hiredis.pack_command(cmd) for cmd in cmds])

    @staticmethod
    def _queue(proto: RespProtocol, packed: list[bytes]) -> list[asyncio.Future[Any]]:
        loop, now, futures = proto.loop, time.monotonic(), []
        for data in packed:
            fut = loop.create_future()
            proto.waiters.append((now, fut))
            futures.append(fut)
            proto.queue(data)
        return futures

    @staticmethod
    async def collect(futures: list[asyncio.Future[Any]]) -> list[Any]:
        """Every reply (or its error, in its place) of queued commands."""
        results: list[Any] = []
        for n, fut in enumerate(futures):  # consume every reply (and every lost-connection error)
            try:
                results.append(await fut)
            except (ReplyError, FastRedisError) as exc:
                results.append(exc)
            except asyncio.CancelledError:  # e.g. shutdown: nobody will read the rest
                for rest in futures[n + 1 :]:
                    rest.add_done_callback(consume)
                raise
        return results

    # --- scripts -------------------------------------------------------------------

    def register(self, *scripts: ScriptLike) -> None:
        """Scripts to load on every new connection (see :meth:`load_scripts`)."""
        for script in scripts:
            self._scripts[script.sha] = script.script

    async def load_scripts(self) -> None:
        """Load every registered script now (start-up warm-up)."""
        if self._scripts:
            await self.execute_many(*(("SCRIPT", "LOAD", b) for b in self._scripts.values()))

    async def evalsha(self, script: ScriptLike, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        return (await self.batch([Call(script, keys, args)]))[0]

    async def batch(self, items: Sequence[tuple[Any, ...] | Call]) -> list[Any]:
        """Commands and script calls in one round trip; replies in order.

        A script that Redis does not know (NOSCRIPT) is loaded and run again once,
        after the rest of the batch: only put commands in a batch whose order
        relative to its scripts does not matter when that happens. Other error
        replies raise (after every reply arrived).
        """
        return raise_first_error(await self.replies(items))

    async def replies(self, items: Sequence[tuple[Any, ...] | Call]) -> list[Any]:
        """Like :meth:`batch`, with each error (reply or lost connection) in its place."""
        cmds = [item.command() if isinstance(item, Call) else item for item in items]
        results = await self._raw_batch(cmds)
        missing = [i for i, reply in enumerate(results) if is_noscript(reply)]
        if missing:
            calls = [items[i] for i in missing]
            self.register(*(call.script for call in calls))  # type: ignore[union-attr]
            loads = [("SCRIPT", "LOAD", call.script.script) for call in calls]  # type: ignore[union-attr]
            again = await self._raw_batch(loads + [cmds[i] for i in missing])
            for i, reply in zip(missing, again[len(loads) :], strict=True):
                results[i] = reply
        return results

    async def aclose(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.close()
        self._proto = None
