"""Our own plain JSON dialect (tests, the simulator, gateways we adapt by proxy).

Request ``{"session_id", "msisdn", "service_code", "input", "new_session", "hop"?}``;
reply ``{"text": ..., "end": bool}``. ``hop`` (optional, 0 on the first hop) lets
a retransmitted hop be recognised; without it only a repeated new session is.
"""

from __future__ import annotations

from aiohttp import web

from dialogue.model import Channel, Inbound, Outbound, SessionEvent
from gateways.parsing import (
    MAX_SESSION_ID,
    BadRequest,
    hop_number,
    json_object,
    msisdn,
    text_field,
)

NAME = "json"
CONTENT_TYPES = frozenset({"application/json"})


def parse(body: bytes) -> Inbound:
    data = json_object(body)
    new = data.get("new_session", False)
    if not isinstance(new, bool):
        raise BadRequest("field 'new_session' must be true or false")
    hop = hop_number(data, "hop")
    return Inbound(
        channel=Channel.USSD,
        dialect=NAME,
        session_id=text_field(data, "session_id", limit=MAX_SESSION_ID),
        msisdn=msisdn(data.get("msisdn"), "msisdn"),
        service_code=text_field(data, "service_code", limit=32),
        event=SessionEvent.NEW if new else SessionEvent.CONTINUE,
        text="" if new else text_field(data, "input"),
        hop=hop,
    )


def reply(inbound: Inbound, out: Outbound) -> web.Response:
    return web.json_response({"text": out.text, "end": out.end})


def error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)
