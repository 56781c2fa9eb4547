"""The lean gateway listener's HTTP side: which reply a request gets, the reply's
bytes, a request's path and the lingering close after a refusal.

Kept apart from the protocol (:mod:`gateways.listener`), which reads and orders.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from http import HTTPStatus
from urllib.parse import unquote

import httptools

from gateways.dialects import DIALECTS
from gateways.exchange import GatewayRequest, Reply, text_reply
from gateways.hops import HopHandler

log = logging.getLogger(__name__)

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

_REASONS = {status.value: status.phrase for status in HTTPStatus}


def encode(reply: Reply, keep_alive: bool, head_only: bool = False) -> bytes:
    """The reply's bytes; `head_only` for HEAD (the length of the body it would have)."""
    reason = _REASONS.get(reply.status, "")
    allow = "Allow: POST\r\n" if reply.status == 405 else ""  # RFC 9110: every path is POST
    head = (
        f"HTTP/1.1 {reply.status} {reason}\r\nContent-Type: {reply.content_type}\r\n"
        f"{allow}Content-Length: {len(reply.body)}\r\n"
        f"{'' if keep_alive else 'Connection: close' + chr(13) + chr(10)}\r\n"
    )
    return head.encode("latin-1") + (b"" if head_only else reply.body)


def close_lingering(transport: asyncio.Transport, seconds: float) -> None:
    """Close after a refusal as nginx does: closing while the client still sends would
    reset the connection and drop the answer unread, so only our side ends now (FIN
    after the answer) and the socket closes `seconds` later (or when the client does);
    the protocol reads and drops the client's bytes meanwhile."""
    if transport.can_write_eof():
        transport.write_eof()
        asyncio.get_running_loop().call_later(seconds, transport.close)
    else:
        transport.close()


def request_path(target: bytes) -> str:
    """The path of a request target: origin form ("/ussd/json?x") or absolute form
    ("http://host/ussd/json", which RFC 9112 says servers accept), percent-decoded."""
    if not target.startswith(b"/"):
        try:
            target = httptools.parse_url(target).path or b""
        except httptools.HttpParserInvalidURLError:
            return ""
    path = target.partition(b"?")[0].decode("latin-1")
    return unquote(path) if "%" in path else path


async def answer(
    handlers: Mapping[str, HopHandler],
    max_body: int,
    path: str,
    method: bytes | None,
    request: GatewayRequest | None,
) -> Reply:
    """The reply to one request (`request` None: its body went past `max_body`; an
    empty `method`: an HTTP/1.1 request without Host)."""
    if request is None:
        dialect = DIALECTS.get(path.split("/")[2] if path.count("/") >= 2 else "")
        reason = f"body is over {max_body} bytes"
        return dialect.error(400, reason) if dialect else text_reply(f"error: {reason}", 400)
    if not method:
        return text_reply("error: an HTTP/1.1 request needs a Host header", 400)
    handler = handlers.get(path)
    if handler is None:
        return text_reply("error: no such gateway endpoint", 404)
    if method != b"POST":
        return text_reply("error: gateways POST their hops", 405)
    try:
        return await handler(request)
    except Exception:  # a bug must not leave the gateway waiting: log it, answer 500
        log.exception("gateway hop on %s failed", path)
        return text_reply("error: internal error (logged)", 500)
