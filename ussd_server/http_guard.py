"""The main port's guard against clients that hold connections without using them.

aiohttp gives a connection forever to send its first request, a request forever to
send its head and its body, and a response forever to be read: 20,000 connections
that send half a request (or nothing) take every file descriptor, and the process
can no longer reach Redis. The guard sits between the socket and aiohttp's protocol
and, on a one-second sweep:

- refuses a connection past ``[http] max_connections`` (503, closed at once);
- closes a connection that sends no request within ``head_seconds`` of opening;
- answers 408 to a request head not complete within ``head_seconds`` of its first byte;
- closes a connection whose request body has not arrived within ``body_seconds``
  plus a second per ``UPLOAD_BYTES_PER_SECOND`` it announced (large operator uploads);
- aborts a connection whose client has read none of its reply for ``body_seconds``.

Idle keep-alive connections between requests are aiohttp's, closed after
``idle_timeout_seconds`` (its own default is an hour); ``make_runner`` sets that.
The middleware ``watch_requests`` tells each connection when a request is being
handled, and turns a client that left mid-request into one line of log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from aiohttp import web

from core.config import Config
from core.metrics import HTTP_CONNECTIONS_ENDED
from core.peers import client_left
from core.settings import http_settings
from gateways.connections import connection_cap

log = logging.getLogger(__name__)

SWEEP_SECONDS = 1.0
# What the sweep ends, as the metric's reason and the log line's format for a count.
ENDED = {
    "refused": "main port: %d connections refused, past [http] max_connections (503)",
    "no_request": "main port: %d connections sent no request in time (closed)",
    "head_timeout": "main port: %d request heads did not arrive in time (408)",
    "body_timeout": "main port: %d request bodies did not arrive in time (closed)",
    "unread_reply": "main port: %d clients read none of their reply in time (aborted)",
}
# Of the process's open-files limit when ``[http] max_connections`` is 0: the gateway
# listener may hold half, Redis and files keep the last tenth.
CONNECTION_SHARE = 0.4
UPLOAD_BYTES_PER_SECOND = 65536  # the slowest upload rate the body deadline allows for
REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 27\r\nConnection: close\r\n\r\nerror: too many connections"
)
TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 39\r\nConnection: close\r\n\r\nerror: the request was not sent in time"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class GuardLimits:
    max_connections: int
    head_seconds: float
    body_seconds: float


class ConnectionGuard:
    """The guarded connections of one listening socket, and the sweep that times them."""

    def __init__(self, limits: GuardLimits) -> None:
        self.limits = limits
        self.live: set[GuardedConnection] = set()
        self.now = time.monotonic()  # the sweep's clock: coarse, read per packet for free
        self._timer: asyncio.TimerHandle | None = None
        self.refused = 0  # connections refused since the last sweep

    def protocol_factory(
        self, inner: Callable[[], asyncio.Protocol]
    ) -> Callable[[], asyncio.Protocol]:
        return lambda: GuardedConnection(self, inner)

    def start(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(SWEEP_SECONDS, self._sweep)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _sweep(self) -> None:
        self.now = time.monotonic()
        ended = Counter(connection.check(self.now) for connection in list(self.live))
        ended.pop("", None)
        if self.refused:
            ended["refused"] += self.refused
            self.refused = 0
        # One line per kind and sweep: a flood of such clients must not flood the log.
        for reason, count in sorted(ended.items()):
            level = logging.WARNING if reason == "refused" else logging.INFO
            log.log(level, ENDED[reason], count)
            HTTP_CONNECTIONS_ENDED.labels(reason).inc(count)
        self.start()


class GuardedConnection(asyncio.Protocol):
    """aiohttp's protocol for one connection, with the times the guard needs."""

    def __init__(self, guard: ConnectionGuard, inner: Callable[[], asyncio.Protocol]) -> None:
        self._guard, self._inner_factory = guard, inner
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._opened = guard.now
        self._served = False  # a request has begun on it (then idling is aiohttp's)
        self._head_began = 0.0  # first byte of a request head not yet complete (0: none)
        self._request_deadline = 0.0  # while a request's body is awaited (0: no request)
        self._request: web.BaseRequest | None = None
        self.ended_by_guard = False  # its request's handler need not log the lost client
        self._unread = 0  # bytes of reply waiting for the client at the last sweep
        self._unread_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        if len(self._guard.live) >= self._guard.limits.max_connections:
            self._guard.refused += 1
            self._transport.write(REFUSED)
            self._transport.close()
            return
        self._guard.live.add(self)
        self._inner = self._inner_factory()
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._inner is None:
            return
        if self._request is None and not self._head_began:
            self._head_began = self._guard.now
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is not None:
            self._guard.live.discard(self)
            self._inner.connection_lost(exc)

    def request_started(self, request: web.BaseRequest) -> None:
        self._served, self._head_began, self._request = True, 0.0, request
        announced = request.content_length or 0
        limits = self._guard.limits
        allowance = limits.body_seconds + announced / UPLOAD_BYTES_PER_SECOND
        self._request_deadline = time.monotonic() + allowance

    def request_finished(self) -> None:
        self._request, self._request_deadline = None, 0.0

    def check(self, now: float) -> str:
        """Called by the sweep: end this connection if its client is holding it; why it
        was ended (a key of ENDED; "" if it was not)."""
        transport, limits = self._transport, self._guard.limits
        if transport is None or transport.is_closing():
            return ""
        if self._request is not None:
            if not self._request.content.is_eof() and now > self._request_deadline:
                self.ended_by_guard = True
                transport.abort()  # the handler reading it sees the connection lost
                return "body_timeout"
        elif self._head_began and now - self._head_began > limits.head_seconds:
            transport.write(TIMED_OUT)
            transport.close()
            return "head_timeout"
        elif not self._served and now - self._opened > limits.head_seconds:
            transport.close()
            return "no_request"
        return self._check_unread(transport, now)

    def _check_unread(self, transport: asyncio.Transport, now: float) -> str:
        unread = transport.get_write_buffer_size()
        if unread != self._unread:
            self._unread, self._unread_since = unread, now
        elif unread and now - self._unread_since > self._guard.limits.body_seconds:
            transport.abort()
            return "unread_reply"
        return ""


@web.middleware
async def watch_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tell the request's guarded connection (if any) while it is handled; a client that
    leaves mid-request is one line of log, not a traceback."""
    transport = request.transport
    connection = transport.get_protocol() if transport is not None else None
    guarded = connection if isinstance(connection, GuardedConnection) else None
    if guarded is not None:
        guarded.request_started(request)
    try:
        return await handler(request)
    except ConnectionResetError as exc:
        if not client_left(request, exc):
            raise  # not this client's connection: a real failure, reported as one
        if guarded is None or not guarded.ended_by_guard:  # else the sweep counted it
            HTTP_CONNECTIONS_ENDED.labels("client_left").inc()
            log.info("%s %s: the client left before its request was read", *_where(request))
        return web.Response(status=400, text="error: connection lost")
    finally:
        if guarded is not None:
            guarded.request_finished()


def _where(request: web.Request) -> tuple[str, str]:
    return request.method, request.path


def make_runner(app: web.Application, config: Config) -> web.AppRunner:
    """The app's runner, with the idle keep-alive limit of ``[http]``."""
    idle = http_settings(config).idle_timeout_seconds
    return web.AppRunner(app, access_log=None, handle_signals=False, keepalive_timeout=idle)


def guard_limits(config: Config) -> GuardLimits:
    settings = http_settings(config)
    return GuardLimits(
        max_connections=settings.max_connections or connection_cap(CONNECTION_SHARE),
        head_seconds=settings.head_timeout_seconds,
        body_seconds=settings.body_timeout_seconds,
    )


async def serve(
    runner: web.AppRunner, host: str, port: int, limits: GuardLimits, **server_options: object
) -> tuple[asyncio.Server, ConnectionGuard]:
    """Listen on host:port with the guard in front of the runner's aiohttp server; the
    caller closes the server (and stops the guard) before ``runner.cleanup()``."""
    assert runner.server is not None, "runner.setup() first"
    guard = ConnectionGuard(limits)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        guard.protocol_factory(runner.server),
        host,
        port,
        **server_options,  # type: ignore[arg-type]
    )
    guard.start()
    return server, guard
