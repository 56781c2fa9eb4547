"""Hubtel (legacy USSD API): JSON in, JSON out; ``Message`` is the latest input only.

``Type`` Initiation (``Message`` is the dialled string), Response, Release or
Timeout; ``Sequence`` numbers the hops and lets us recognise a retransmit.
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

NAME = "hubtel"
CONTENT_TYPES = frozenset({"application/json"})
SUMMARY = "Hubtel: one hop of a USSD session (Response continues, Release ends)"
REQUEST = {
    "type": "object",
    "properties": {
        "Type": {"enum": ["Initiation", "Response", "Release", "Timeout"]},
        "Message": {"type": "string"},
        "Mobile": {"type": "string"},
        "SessionId": {"type": "string", "maxLength": 128, "pattern": "\\S"},
        "ServiceCode": {"type": "string"},
        "Sequence": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
        "Operator": {"type": "string"},
    },
    "required": ["Type", "Mobile", "SessionId"],
}
REPLY = {
    "application/json": {
        "type": "object",
        "properties": {
            "Type": {"enum": ["Response", "Release"]},
            "Message": {"type": "string"},
            "ClientState": {"type": "string"},
        },
        "required": ["Type", "Message"],
    }
}
ERROR = {
    "application/json": {
        "type": "object",
        "properties": {"Type": {"const": "Release"}, "Message": {}, "error": {"type": "string"}},
        "required": ["error"],
    }
}
EVENTS = {
    "Initiation": SessionEvent.NEW,
    "Response": SessionEvent.CONTINUE,
    "Release": SessionEvent.CLOSE,
    "Timeout": SessionEvent.TIMEOUT,
}


def parse(body: bytes) -> Inbound:
    data = json_object(body)
    kind = data.get("Type")
    if not isinstance(kind, str) or kind not in EVENTS:  # {} or [] cannot even be looked up
        raise BadRequest(f"field 'Type' must be one of {', '.join(EVENTS)}")
    sequence = hop_number(data, "Sequence")
    event = EVENTS[kind]
    message = text_field(data, "Message", required=event is SessionEvent.CONTINUE)
    service_code = text_field(data, "ServiceCode", required=False, limit=32)
    if event is SessionEvent.NEW and not service_code:
        service_code = message  # the dialled string, e.g. "*119#"
    return Inbound(
        channel=Channel.USSD,
        dialect=NAME,
        session_id=text_field(data, "SessionId", limit=MAX_SESSION_ID),
        msisdn=msisdn(data.get("Mobile"), "Mobile"),
        service_code=service_code or "*119#",
        event=event,
        text="" if event is SessionEvent.NEW else message,
        hop=sequence,
        extras={"operator": str(data.get("Operator", ""))},
    )


def reply(inbound: Inbound, out: Outbound) -> Reply:
    body = {"Type": "Release" if out.end else "Response", "Message": out.text, "ClientState": ""}
    return Reply(200, JSON, orjson.dumps(body))


def error(status: int, reason: str) -> Reply:
    body = {"Type": "Release", "Message": "", "error": reason}
    return Reply(status, JSON, orjson.dumps(body))
