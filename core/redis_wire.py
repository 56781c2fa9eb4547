"""The lean Redis client's small types: errors, scripts, batch entries, the wire protocol.

See :mod:`core.redis_lean` for the client itself.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
from collections.abc import Sequence
from typing import Any, Protocol

import hiredis
from redis import exceptions as redis_errors

from core.redis_cluster import key_slot


class FastRedisError(redis_errors.ConnectionError, ConnectionError):
    """Redis could not be reached or did not answer in time."""


class ReplyError(redis_errors.ResponseError):
    """Redis answered with an error (wrong type, script error, NOSCRIPT...)."""


class ScriptLike(Protocol):
    """What a script needs to be run here (redis-py's AsyncScript has both)."""

    @property
    def sha(self) -> str: ...

    @property
    def script(self) -> str | bytes: ...


class Script:
    """A Lua script known by its body and sha1 (for scripts no redis-py client registers)."""

    __slots__ = ("script", "sha")

    def __init__(self, body: str) -> None:
        self.script = body
        self.sha = hashlib.sha1(body.encode()).hexdigest()


def check_one_slot(keys: Sequence[Any], what: str) -> None:
    """Raise (as a cluster would) when ``keys`` do not all hash to one slot."""
    if len({key_slot(key) for key in keys}) > 1:
        raise ReplyError(f"CROSSSLOT {what}: keys in different hash slots: {list(keys)}")


class Call:
    """A script call inside :meth:`FastRedis.batch` (plain commands are tuples)."""

    __slots__ = ("args", "keys", "script")
    # The test suite turns this on: every script call, on a single Redis too, then
    # proves its keys share one Cluster slot (a cluster itself refuses such calls).
    check_slots = False

    def __init__(self, script: ScriptLike, keys: Sequence[Any], args: Sequence[Any]) -> None:
        self.script, self.keys, self.args = script, keys, args

    def command(self) -> tuple[Any, ...]:
        if Call.check_slots:
            check_one_slot(self.keys, "script")
        return ("EVALSHA", self.script.sha, len(self.keys), *self.keys, *self.args)


class Commands(list[tuple[Any, ...]]):
    """Plain commands for a batch, queued with redis-py's pipeline method names.

    Lets helpers written for redis-py pipelines (e.g. ``stats.bump``) queue onto a batch.
    """

    def hincrby(self, key: str, field: str, by: int = 1) -> None:
        self.append(("HINCRBY", key, field, by))


def as_dict(flat: list[Any] | None) -> dict[str, Any]:
    """A flat HGETALL reply [field, value, ...] as a dict (what redis-py returns)."""
    if not flat:
        return {}
    return dict(zip(flat[::2], flat[1::2], strict=True))


class RespProtocol(asyncio.Protocol):
    """One connection: commands written in batches per loop turn, replies in order."""

    def __init__(self) -> None:
        self.reader = hiredis.Reader(encoding="utf-8", replyError=ReplyError)
        self.waiters: collections.deque[tuple[float, asyncio.Future[Any]]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
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
            self.loop.call_soon(self.flush)

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
            if isinstance(reply, ReplyError):
                fut.set_exception(reply)
            else:
                fut.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        while self.waiters:
            _, fut = self.waiters.popleft()
            if not fut.done():
                fut.set_exception(FastRedisError(f"Redis connection lost: {exc or 'closed'}"))


def is_noscript(reply: object) -> bool:
    """The server has not (or no longer) got the script: load it and run the call again."""
    return isinstance(reply, ReplyError) and str(reply).startswith("NOSCRIPT")


def consume(fut: asyncio.Future[Any]) -> None:
    """Mark a reply nobody waits for any more as read (no "never retrieved" noise)."""
    if not fut.cancelled():
        fut.exception()


def raise_first_error(results: list[Any]) -> list[Any]:
    """The replies of a batch, or its first error raised (after every reply arrived)."""
    for reply in results:
        if isinstance(reply, BaseException):
            raise reply
    return results
