"""One gateway request and its reply, whatever HTTP server carried them.

The endpoints are served twice over: by the aiohttp application on the main port
(with the operator API and the pages), and, when ``[ussd] gateway_port`` is set,
by the lean listener of :mod:`gateways.listener` built for the gateways' traffic
alone. Both hand a :class:`GatewayRequest` to the same handlers and write the
:class:`Reply` back in their own way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


@dataclass(slots=True)
class GatewayRequest:
    remote: str  # the client's address
    headers: Mapping[str, str]  # looked up by lower-case name
    content_type: str  # the media type alone, lower case ("application/json")
    body: bytes


@dataclass(slots=True)
class Reply:
    status: int
    content_type: str
    body: bytes


def text_reply(text: str, status: int = 200) -> Reply:
    return Reply(status, TEXT, text.encode("utf-8"))


def media_type(header: str) -> str:
    """'application/JSON; charset=utf-8' -> 'application/json'."""
    return header.partition(";")[0].strip().lower()
