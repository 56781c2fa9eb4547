"""A lean pipelined Redis connection for the per-hop session reads and writes.

Why not redis-py here: a hop's session work is two tiny commands, and redis-py
spends far more CPU per command (pool checkout, retry and timeout wrappers,
command packing in Python) than the engine does on the whole hop. This client
keeps ONE connection per process, writes every command as soon as it is issued
(concurrent hops share the socket: natural pipelining), packs with hiredis and
matches replies to waiters in order. A watchdog fails waiters older than the
timeout by dropping the connection (the next command reconnects), so a stuck
Redis gives a "busy" screen, not a hung gateway. Everything else (the Registry)
keeps using redis-py.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any
from urllib.parse import unquote, urlparse

import hiredis


class KvError(ConnectionError):
    """Redis could not be reached or did not answer in time."""


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader(encoding="utf-8")
        self.waiters: collections.deque[tuple[float, asyncio.Future[Any]]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.lost = False
        # Commands issued during one event-loop turn go out in one write (one syscall):
        # under load many hops share it, which matters more than the few microseconds
        # a command waits for the end of the turn.
        self.out: list[bytes] = []
        self.flush_scheduled = False

    def queue(self, data: bytes) -> None:
        self.out.append(data)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self.flush_scheduled = False
        if self.out and not self.lost and self.transport is not None:
            self.transport.write(b"".join(self.out))
        self.out.clear()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        waiters = self.waiters
        while True:
            reply = self.reader.gets()
            if reply is False:
                return
            _, fut = waiters.popleft()
            if fut.done():
                continue
            if isinstance(reply, hiredis.ReplyError):
                fut.set_exception(reply)
            else:
                fut.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        while self.waiters:
            _, fut = self.waiters.popleft()
            if not fut.done():
                fut.set_exception(KvError(f"Redis connection lost: {exc or 'closed'}"))


class Kv:
    """Session storage commands over one pipelined connection (lazily opened)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 6379
        self.db = int(parsed.path.lstrip("/") or 0)
        self.password = unquote(parsed.password) if parsed.password else None
        self.username = unquote(parsed.username) if parsed.username else None
        self.timeout = timeout
        self._proto: _Protocol | None = None
        self._connecting: asyncio.Future[_Protocol] | None = None
        self._watchdog: asyncio.TimerHandle | None = None

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        try:
            _, proto = await asyncio.wait_for(
                loop.create_connection(_Protocol, self.host, self.port), self.timeout
            )
        except (OSError, TimeoutError) as exc:
            raise KvError(f"cannot connect to Redis {self.host}:{self.port}: {exc}") from None
        setup: list[tuple[Any, ...]] = []
        if self.password:
            auth = ("AUTH", self.username, self.password) if self.username else None
            setup.append(auth or ("AUTH", self.password))
        if self.db:
            setup.append(("SELECT", str(self.db)))
        futures = [self._send(proto, cmd) for cmd in setup]
        for fut in futures:
            await fut
        if self._watchdog is None:
            self._watchdog = loop.call_later(self.timeout / 2, self._check)
        return proto

    async def _ready(self) -> _Protocol:
        proto = self._proto
        if proto is not None and not proto.lost:
            return proto
        connecting = self._connecting
        if connecting is None:  # one connect attempt shared by every waiting hop
            connecting = self._connecting = asyncio.ensure_future(self._connect())
            connecting.add_done_callback(self._connected)
        return await asyncio.shield(connecting)

    def _connected(self, fut: asyncio.Future[_Protocol]) -> None:
        self._connecting = None
        if not fut.cancelled() and fut.exception() is None:
            self._proto = fut.result()

    @staticmethod
    def _send(proto: _Protocol, cmd: tuple[Any, ...]) -> asyncio.Future[Any]:
        fut = asyncio.get_running_loop().create_future()
        proto.queue(hiredis.pack_command(cmd))
        proto.waiters.append((time.monotonic(), fut))
        return fut

    def _check(self) -> None:
        """Drop a connection whose oldest reply is overdue: its waiters get KvError."""
        proto = self._proto
        overdue = proto is not None and proto.waiters and not proto.lost
        if overdue and time.monotonic() - proto.waiters[0][0] > self.timeout:
            proto.transport.abort()  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        self._watchdog = loop.call_later(self.timeout / 2, self._check)

    async def execute(self, *cmd: Any) -> Any:
        proto = self._proto
        if proto is None or proto.lost:
            proto = await self._ready()
        return await self._send(proto, cmd)

    async def execute_many(self, *cmds: tuple[Any, ...]) -> list[Any]:
        """Several commands in one write (not a transaction); all replies, in order."""
        proto = self._proto
        if proto is None or proto.lost:
            proto = await self._ready()
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        futures = []
        for _ in cmds:
            fut = loop.create_future()
            proto.waiters.append((now, fut))
            futures.append(fut)
        for cmd in cmds:
            proto.queue(hiredis.pack_command(cmd))
        results: list[Any] = []
        error: BaseException | None = None
        for fut in futures:  # consume every reply, even after an error
            try:
                results.append(await fut)
            except Exception as exc:
                error = error or exc
        if error is not None:
            raise error
        return results

    async def aclose(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.close()
        self._proto = None
