"""The lean gateway listener's HTTP bytes: a reply's head and body, a request's path.

Kept apart from the protocol (:mod:`gateways.listener`), which reads and orders.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import unquote

import httptools

from gateways.exchange import Reply

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
