"""Africa's Talking: form POST, cumulative ``text`` (inputs joined by ``*``), reply ``CON``/``END``.

The first hop has an empty ``text``; hop n carries all n inputs, so the number of
inputs is the hop number (a retransmitted hop has the same count). A separate
end-of-session notification (``/ussd/africastalking/events``) reports the outcome.
"""

from __future__ import annotations

from dialogue.model import Channel, Inbound, Outbound, SessionEvent
from gateways.exchange import Reply, text_reply
from gateways.parsing import (
    MAX_SESSION_ID,
    BadRequest,
    decode,
    msisdn,
    text_field,
    unquote_form,
)

NAME = "africastalking"
CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded"})
EVENT_STATUSES = frozenset({"Success", "Incomplete", "Failed"})
# The contract, for the OpenAPI description (gateways/openapi.py).
SUMMARY = "Africa's Talking: one hop of a USSD session (CON continues, END ends)"
REQUEST = {
    "type": "object",
    "properties": {
        "sessionId": {"type": "string", "maxLength": 128, "pattern": "\\S"},
        "serviceCode": {"type": "string", "maxLength": 32},
        "phoneNumber": {"type": "string", "description": "+62..."},
        "networkCode": {"type": "string"},
        "text": {"type": "string", "description": "every input so far, joined by *"},
    },
    "required": ["sessionId", "serviceCode", "phoneNumber"],
}
REPLY = {"text/plain": {"type": "string", "pattern": "^(CON|END) "}}
ERROR = {"text/plain": {"type": "string", "pattern": "^error: "}}
EVENT_REQUEST = {
    "type": "object",
    "properties": {
        "sessionId": {"type": "string", "maxLength": 128, "pattern": "\\S"},
        "phoneNumber": {"type": "string"},
        "status": {"enum": sorted(EVENT_STATUSES)},
    },
    "required": ["sessionId", "phoneNumber", "status"],
}


def form(body: bytes) -> dict[str, str]:
    """A urlencoded body as a dict (first value wins); percent-decoding only where needed."""
    text = decode(body)
    fields: dict[str, str] = {}
    try:
        for pair in text.split("&"):
            name, _, value = pair.partition("=")
            if "%" in value or "+" in value:
                value = unquote_form(value)
            if "%" in name or "+" in name:
                name = unquote_form(name)
            fields.setdefault(name, value)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"form field is not valid UTF-8 once decoded: {exc.reason}") from None
    return fields


def parse(body: bytes) -> Inbound:
    data = form(body)
    session_id = text_field(data, "sessionId", limit=MAX_SESSION_ID)
    service_code = text_field(data, "serviceCode", limit=32)
    phone = msisdn(data.get("phoneNumber"), "phoneNumber")
    cumulative = text_field(data, "text", required=False)
    parts = cumulative.split("*") if cumulative else []
    return Inbound(
        channel=Channel.USSD,
        dialect=NAME,
        session_id=session_id,
        msisdn=phone,
        service_code=service_code,
        event=SessionEvent.CONTINUE if parts else SessionEvent.NEW,
        text=parts[-1] if parts else "",
        hop=len(parts),
        extras={"network": data.get("networkCode", "")},
    )


def parse_event(body: bytes) -> tuple[Inbound, str]:
    """The end-of-session notification as a CLOSE Inbound plus its status."""
    data = form(body)
    status = text_field(data, "status", limit=32)
    if status not in EVENT_STATUSES:
        raise BadRequest(f"field 'status' must be one of {', '.join(sorted(EVENT_STATUSES))}")
    inbound = Inbound(
        channel=Channel.USSD,
        dialect=NAME,
        session_id=text_field(data, "sessionId", limit=MAX_SESSION_ID),
        msisdn=msisdn(data.get("phoneNumber"), "phoneNumber"),
        service_code=data.get("serviceCode", ""),
        event=SessionEvent.CLOSE,
        text="",
    )
    return inbound, status


def reply(inbound: Inbound, out: Outbound) -> Reply:
    return text_reply(("END " if out.end else "CON ") + out.text)


def error(status: int, reason: str) -> Reply:
    # A body without CON/END ends the session on the gateway side: the user sees its error.
    return text_reply(f"error: {reason}", status)
