"""A raw RESP pipeline for bulk loads (the registry import), bypassing redis-py's packing.

redis-py spends ~20 µs of Python per pipelined command (packing, one timeout
context per reply); a million-row import sends ~2 million commands. Here the
caller pre-encodes commands as RESP text (one f-string per row), the batch goes
out in one write and the replies are parsed by hiredis's C reader. Only plain
TCP connections are supported (TLS and unix sockets get ``None`` from
:meth:`BulkConnection.open` and the caller uses redis-py instead); on a Redis Cluster,
:mod:`core.redis_bulk_cluster` keeps one of these per master.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection


class BulkError(RuntimeError):
    """Redis refused a command of a bulk batch."""


def resp(*args: str) -> str:
    """One command as RESP text (for ASCII-safe lengths use it on str; encode once later)."""
    parts = [f"*{len(args)}\r\n"]
    for arg in args:
        parts.append(f"${len(arg.encode())}\r\n{arg}\r\n")
    return "".join(parts)


class BulkConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._lock = asyncio.Lock()
        self.timeout = 120.0  # one batch; generous: Redis may be busy with other clients

    @classmethod
    async def open(cls, redis: aioredis.Redis) -> BulkConnection | None:
        pool = getattr(redis, "connection_pool", None)
        if pool is None or pool.connection_class is not Connection:
            return None
        kw = pool.connection_kwargs
        return await cls.connect(
            kw.get("host", "127.0.0.1"),
            kw.get("port", 6379),
            kw.get("username"),
            kw.get("password"),
            int(kw.get("db") or 0),
        )

    @classmethod
    async def connect(
        cls, host: str, port: int, user: str | None, password: str | None, db: int
    ) -> BulkConnection:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        conn = cls(reader, writer)
        setup: list[str] = []
        if password:
            setup.append(resp("AUTH", *([user] if user else []), password))
        if db:
            setup.append(resp("SELECT", str(db)))
        if setup:
            await conn.run("".join(setup), len(setup))
        return conn

    async def run(self, commands: str, count: int) -> list[Any]:
        """Send ``count`` pre-encoded commands; return their replies (raise on any error)."""
        async with self._lock, asyncio.timeout(self.timeout):
            self._writer.write(commands.encode("utf-8"))
            await self._writer.drain()
            parser = hiredis.Reader(encoding="utf-8")
            replies: list[Any] = []
            while len(replies) < count:
                data = await self._reader.read(1 << 20)
                if not data:
                    raise BulkError("Redis closed the connection during a bulk write")
                parser.feed(data)
                while (reply := parser.gets()) is not False:
                    replies.append(reply)
            errors = [r for r in replies if isinstance(r, hiredis.ReplyError)]
            if errors:
                raise BulkError(f"{len(errors)} command(s) failed, first: {errors[0]}")
            return replies

    async def run_parts(self, parts: list[tuple[str, str]]) -> list[Any]:
        """(key, one pre-encoded command) pairs in one write; their replies in order.

        The key is for :class:`core.redis_bulk_cluster.ClusterBulk`, which routes by it.
        """
        return await self.run("".join(text for _, text in parts), len(parts))

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
