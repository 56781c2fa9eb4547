"""Our own plain JSON dialect (tests, the simulator, gateways we adapt by proxy).

Request ``{"session_id", "msisdn", "service_code", "input", "new_session", "hop"?}``
(``input`` may be left out only with ``"new_session": true``);
reply ``{"text": ..., "end": bool}``. ``hop`` (optional, 0 on the first hop) lets
a retransmitted hop be recognised; without it only a repeated new session is.
"""

from __future__ import annotations

import orjson

from dialogue.model import Channel, Inbound, Outbound, SessionEvent
from gateways.exchange import JSON, Reply
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
SUMMARY = "Plain JSON: one hop of a USSD session"
INPUT = "the subscriber's answer on this hop; required unless new_session is true"
REQUEST = {
    "type": "object",
    "properties": {
        "session_id": {"type": "string", "maxLength": 128, "pattern": "\\S"},
        "msisdn": {"type": "string"},
        "service_code": {"type": "string"},
        "input": {"type": "string", "description": INPUT},
        "new_session": {"type": "boolean", "description": "true on the dial (default false)"},
        "hop": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    },
    "required": ["session_id", "msisdn", "service_code"],
    # A hop that does not start a session carries the subscriber's answer: without it
    # there is nothing to go on with (and a misspelt field must not pass for "").
    "if": {"properties": {"new_session": {"const": True}}, "required": ["new_session"]},
    "else": {"required": ["input"]},
}
REPLY = {
    "application/json": {
        "type": "object",
        "properties": {"text": {"type": "string"}, "end": {"type": "boolean"}},
        "required": ["text", "end"],
    }
}
ERROR = {
    "application/json": {
        "type": "object",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
    }
}


def parse(body: bytes) -> Inbound:
    data = json_object(body)
    new = data.get("new_session", False)
    if not isinstance(new, bool):
        raise BadRequest("field 'new_session' must be true or false")
    hop = hop_number(data, "hop")
    session_id = text_field(data, "session_id", limit=MAX_SESSION_ID)
    number = msisdn(data.get("msisdn"), "msisdn")
    service_code = text_field(data, "service_code", limit=32)
    if not new and data.get("input") is None:
        raise BadRequest("field 'input' is missing (it may be left out only on a new_session)")
    return Inbound(
        channel=Channel.USSD,
        dialect=NAME,
        session_id=session_id,
        msisdn=number,
        service_code=service_code,
        event=SessionEvent.NEW if new else SessionEvent.CONTINUE,
        text="" if new else text_field(data, "input"),
        hop=hop,
    )


def reply(inbound: Inbound, out: Outbound) -> Reply:
    return Reply(200, JSON, orjson.dumps({"text": out.text, "end": out.end}))


def error(status: int, reason: str) -> Reply:
    return Reply(status, JSON, orjson.dumps({"error": reason}))
