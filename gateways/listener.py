"""A lean HTTP/1.1 listener for the gateways' traffic alone (``[ussd] gateway_port``).

A USSD hop's own work costs tens of microseconds; a general web framework spends
several times that on every request (routing, middlewares, request and response
objects). Gateways only ever POST a small body to a handful of paths, so this
listener parses with httptools (the C parser) and writes each reply in one call.

What it does and does not: keep-alive and requests in order on a connection,
``Content-Length`` and chunked bodies up to ``[http] max_body_bytes`` (past it, or
a Content-Length announcing more: the dialect's 400 and the connection closed),
``Expect: 100-continue``, a request line and headers of at most ``MAX_HEAD_BYTES``
as they arrive (414, 431; at most 100 headers), a request complete within
``REQUEST_SECONDS`` of the read that began it (else 408, stalled or trickled), idle
connections closed after ``IDLE_SECONDS`` (aborted when the peer reads nothing), no
more reading while ``MAX_QUEUED`` requests wait or the peer reads no replies, HEAD
answered without a body, 404 for other paths and 405 for other methods; HTTP/1.1
without Host is 400; past ``connections.MAX_CONNECTIONS`` a new connection gets 503.
No TLS: put it behind the operator's TLS terminator or on the private link to the
gateway, as the gateway contract says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping

import httptools

from gateways import connections
from gateways.connections import OpenConnections
from gateways.exchange import GatewayRequest, media_type, text_reply
from gateways.hops import HopHandler
from gateways.http_reply import CONTINUE, answer, close_lingering, encode, request_path

log = logging.getLogger(__name__)

IDLE_SECONDS = 75.0
REQUEST_SECONDS = 30.0  # from a request's first byte to its last (slow senders)
MAX_HEADERS = 100
MAX_HEADER_BYTES = 8192  # names and values
MAX_HEAD_BYTES = 16384  # the request line and the headers as they arrive, CRLFs included
LINGER_SECONDS = 2.0  # a refused client's bytes are read and dropped this long
MAX_QUEUED = 32  # requests parsed and waiting on one connection before reading pauses


class GatewayProtocol(asyncio.Protocol):
    """One gateway connection: requests parsed as they arrive, answered in order."""

    def __init__(
        self, handlers: Mapping[str, HopHandler], max_body: int, opened: OpenConnections
    ) -> None:
        self._handlers, self._max_body, self._opened = handlers, max_body, opened
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        # Kept, not asked for per request: Python 3.11's get_running_loop() makes a
        # getpid() system call each time (with the Redis client's per-command calls,
        # 3 % of a hop's samples in py-spy).
        self._loop = asyncio.get_running_loop()
        self._remote = ""
        self._queue: deque[tuple[str, bytes | None, GatewayRequest | None, bool]] = deque()
        self._worker: asyncio.Task[None] | None = None
        # One timer per connection, re-armed only when it fires (re-arming it for every
        # request cost more than parsing the request): it checks the last activity.
        self._idle: asyncio.TimerHandle | None = None
        self._last_active = 0.0
        self._ended = False  # a reply that closes the connection is on its way: read no more
        self._write_paused = self._read_paused = False
        self._drained: asyncio.Future[None] | None = None
        # Set by the parser's callbacks (an exception raised there reaches us wrapped).
        self._overflow = ""
        self._reset_message()

    def _reset_message(self) -> None:
        self._began = 0.0  # when the request being read began (0: between requests)
        self._in_body = False  # its headers are complete
        self._head_seen = 0  # bytes received since, while no headers were complete
        self._url = b""
        self._headers: dict[str, str] = {}
        self._header_bytes = 0
        self._body: list[bytes] = []
        self._body_size = 0

    # --- the connection ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._opened.count += 1
        if self._opened.count > connections.MAX_CONNECTIONS:  # keep descriptors for Redis
            self._ended = True
            transport.write(encode(text_reply("error: too many connections", 503), False))  # type: ignore[attr-defined]
            transport.close()
            return
        peer = transport.get_extra_info("peername")
        self._remote = str(peer[0]) if peer else ""
        self._touch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._opened.count -= 1
        self._transport = None
        if self._idle is not None:
            self._idle.cancel()
        if self._worker is not None:
            self._worker.cancel()

    def _touch(self) -> None:
        self._last_active = self._loop.time()
        if self._idle is None:
            first = self._last_active + min(IDLE_SECONDS, REQUEST_SECONDS)
            self._idle = self._loop.call_at(first, self._check_idle)

    def _check_idle(self) -> None:
        """The connection's one timer: a request begun and stalled gets its 408 (bytes
        that arrive check the deadline too, but a sender that stops sends none), an idle
        connection is closed. Armed never further than REQUEST_SECONDS ahead, since a
        request may begin in the meantime; a timer per request would cost every hop."""
        loop, now = self._loop, self._loop.time()
        began = 0.0 if self._ended else self._began
        if began and now - began >= REQUEST_SECONDS:
            if self._all_answered():
                self._fail(408, "request not complete in time")
                return
            began = now  # an earlier reply is still on its way: look again later
        due = self._last_active + IDLE_SECONDS
        if now < due:
            self._idle = loop.call_at(min(due, (began or now) + REQUEST_SECONDS), self._check_idle)
        elif self._transport is not None:
            if self._transport.get_write_buffer_size():  # a peer that reads nothing
                self._transport.abort()  # close() would wait for it for ever
            else:
                self._transport.close()

    def data_received(self, data: bytes) -> None:
        if self._ended:
            return
        self._touch()
        if not self._began:  # a request starts (a callback per request cost more)
            self._began = self._last_active
        elif self._last_active - self._began > REQUEST_SECONDS:
            self._fail(408, "request not complete in time")
            return
        if not self._in_body:
            self._head_seen += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400, "upgrades are not served here")
        except httptools.HttpParserError as exc:
            if not self._overflow:
                self._fail(400, f"malformed HTTP request: {exc}")
        if not self._in_body and self._head_seen > MAX_HEAD_BYTES:
            self._overflow = self._overflow or "headers"  # httptools keeps a partial one
        if self._overflow == "uri":
            self._fail(414, "request target too long")
        elif self._overflow == "headers":
            self._fail(431, "request headers too large")
        elif self._overflow == "body":
            self._ended = True
            path = request_path(self._url)
            self._queue.append((path, None, None, False))  # answered after the earlier ones
            self._start()

    def _fail(self, status: int, reason: str) -> None:
        self._ended = True
        if self._worker is not None:
            self._worker.cancel()
        if self._transport is not None:
            self._transport.write(encode(text_reply(f"error: {reason}", status), False))
            # Its further bytes are read and ignored (see data_received) meanwhile.
            close_lingering(self._transport, LINGER_SECONDS)

    # --- httptools callbacks -------------------------------------------------------------

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > MAX_HEADER_BYTES:
            self._overflow = "uri"
            raise ValueError("request target too long")  # stops the parser

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if len(self._headers) >= MAX_HEADERS or self._header_bytes > MAX_HEADER_BYTES:
            self._overflow = "headers"
            raise ValueError("headers too large")  # stops the parser
        # As aiohttp on the main port: UTF-8, other bytes kept as surrogates.
        self._headers[name.decode("latin-1").lower()] = value.decode("utf-8", "surrogateescape")

    def on_headers_complete(self) -> None:
        self._in_body = True
        length = self._headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max_body:  # refused before it is sent
            self._overflow = "body"
            raise ValueError("body too large")  # stops the parser
        if self._headers.get("expect", "").lower() == "100-continue" and self._all_answered():
            self._transport.write(CONTINUE)  # type: ignore[union-attr]

    def _all_answered(self) -> bool:
        """No reply is pending: an interim 100 cannot come before an earlier answer."""
        idle = not self._queue and (self._worker is None or self._worker.done())
        return idle and self._transport is not None

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size > self._max_body:
            self._overflow = "body"
            raise ValueError("body too large")  # stops the parser
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._ended:
            return
        url = self._url
        if url[:1] == b"/" and b"%" not in url:  # the usual target: no call for it
            path = url.decode("latin-1").partition("?")[0]
        else:
            path = request_path(url)
        method = self._parser.get_method()
        body = b"".join(self._body)
        request = GatewayRequest(
            self._remote, self._headers, media_type(self._headers.get("content-type", "")), body
        )
        if "host" not in self._headers and self._parser.get_http_version() == "1.1":
            method = b""  # RFC 9112: answered 400
        self._queue.append((path, method, request, self._parser.should_keep_alive()))
        self._reset_message()
        if len(self._queue) >= MAX_QUEUED:
            self._throttle()
        self._start()

    # --- answering, in order ---------------------------------------------------------------

    def _start(self) -> None:
        if self._worker is None or self._worker.done():
            self._worker = self._loop.create_task(self._answer_all())

    async def _answer_all(self) -> None:
        while self._queue and self._transport is not None and not self._transport.is_closing():
            path, method, request, keep_alive = self._queue.popleft()
            if self._read_paused:
                self._throttle()
            reply = await answer(self._handlers, self._max_body, path, method, request)
            if self._transport is None or self._transport.is_closing():
                return
            self._transport.write(encode(reply, keep_alive, method == b"HEAD"))
            if not keep_alive:
                if request is None:  # refused mid-body: the client may still be sending
                    close_lingering(self._transport, LINGER_SECONDS)
                else:
                    self._transport.close()
                return
            if self._write_paused:  # the peer reads no replies: answer no more for now
                self._drained = self._loop.create_future()
                await self._drained

    # --- flow control: a client that sends without reading is not buffered without end --

    def pause_writing(self) -> None:
        self._write_paused = True
        self._throttle()

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._throttle()

    def _throttle(self) -> None:
        """Read while replies flow and few requests wait; else let TCP hold the sender."""
        busy = self._write_paused or len(self._queue) >= MAX_QUEUED
        if busy != self._read_paused and self._transport is not None:
            if busy:
                self._transport.pause_reading()
            elif not self._transport.is_closing():
                self._transport.resume_reading()
            self._read_paused = busy


async def serve(
    handlers: Mapping[str, HopHandler], host: str, port: int, max_body: int, *, reuse_port: bool
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    opened = OpenConnections()
    return await loop.create_server(
        lambda: GatewayProtocol(handlers, max_body, opened),
        host,
        port,
        reuse_port=reuse_port,
        backlog=1024,
    )


async def close(server: asyncio.Server) -> None:
    server.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(server.wait_closed(), 5)
