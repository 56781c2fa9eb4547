"""Hubtel (legacy USSD API): JSON in, JSON out; ``Message`` is the latest input only.

``Type`` Initiation (``Message`` is the dialled string), Response, Release or
Timeout; ``Sequence`` numbers the hops and lets us recognise a retransmit.
"""

from __future__ import annotations

import json

from aiohttp import web

from dialogue.model import Channel, Inbound, Outbound, SessionEvent
from gateways.parsing import MAX_SESSION_ID, BadRequest, decode, msisdn, text_field

NAME = "hubtel"
CONTENT_TYPES = frozenset({"application/json"})
EVENTS = {
    "Initiation": SessionEvent.NEW,
    "Response": SessionEvent.CONTINUE,
    "Release": SessionEvent.CLOSE,
    "Timeout": SessionEvent.TIMEOUT,
}


def parse(body: bytes) -> Inbound:
    try:
        data = json.loads(decode(body))
    except json.JSONDecodeError as exc:
        raise BadRequest(f"body is not JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    kind = data.get("Type")
    if kind not in EVENTS:
        raise BadRequest(f"field 'Type' must be one of {', '.join(EVENTS)}")
    sequence = data.get("Sequence")
    if sequence is not None and (not isinstance(sequence, int) or isinstance(sequence, bool)):
        raise BadRequest("field 'Sequence' must be an integer")
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


def reply(inbound: Inbound, out: Outbound) -> web.Response:
    body = {"Type": "Release" if out.end else "Response", "Message": out.text, "ClientState": ""}
    return web.json_response(body)


def error(status: int, reason: str) -> web.Response:
    return web.json_response({"Type": "Release", "Message": "", "error": reason}, status=status)
