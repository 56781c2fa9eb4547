"""Meta's webhook: the signature check and the notification turned into small events.

A notification is ``{"object": "whatsapp_business_account", "entry": [{"changes":
[{"field": "messages", "value": {"metadata": {"phone_number_id"}, "messages": [...],
"statuses": [...]}}]}]}``. Only what the channel needs survives parsing: who, which
message id, when, and the text or the picked key (button and list replies by id);
statuses by message id. Contacts' profile names are dropped (nobody needs them).
Changes for another business number, or of another field, are skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

import orjson

from core.digits import is_digits, whole_number
from core.phone import normalise_phone
from core.secret_compare import same_secret

SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_TEXT = 4096  # WhatsApp's own limit for a text message
MAX_ID = 256
STATUSES = ("sent", "delivered", "read", "failed")


class BadNotification(ValueError):
    """The body is not a WhatsApp notification; the message says why."""


def signature(secret: str, body: bytes) -> str:
    """What Meta puts in X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str) -> bool:
    """Constant-time comparison against the raw bytes, before anything is parsed."""
    return same_secret(header.strip(), signature(secret, body))


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """One message from a phone: typed text, a picked button or row, or something else."""

    phone: str  # 62... for an Indonesian number; other wa_ids as given (digits)
    message_id: str
    timestamp: int  # when the user sent it (epoch seconds): opens the 24-hour window
    kind: str  # "text", "choice" (button or list reply) or the type we do not read
    text: str = ""  # the typed text, or the picked button's or row's title
    choice: str = ""  # the picked button's or row's id

    def fields(self) -> dict[str, str]:
        return {"e": "m", "p": self.phone, "i": self.message_id, "t": str(self.timestamp),
                "k": self.kind, "x": self.text, "c": self.choice}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """What became of a message we sent: sent, delivered, read or failed (with the code)."""

    phone: str
    message_id: str
    status: str
    error: str = ""  # the first error's code when failed

    def fields(self) -> dict[str, str]:
        return {"e": "s", "p": self.phone, "i": self.message_id, "s": self.status,
                "r": self.error}  # fmt: skip


Event = MessageEvent | StatusEvent


def event_from_fields(f: dict[str, str]) -> Event:
    """An inbox stream entry back into its event."""
    if f.get("e") == "s":
        return StatusEvent(f["p"], f["i"], f["s"], f.get("r", ""))
    stamp = f.get("t", "")
    return MessageEvent(f["p"], f["i"], int(stamp) if is_digits(stamp) else 0, f["k"],
                        f.get("x", ""), f.get("c", ""))  # fmt: skip


def _phone(raw: Any) -> str:
    """The wa_id as the dialogue's msisdn ("" when it is not a phone number at all: an
    international number has 7 to 15 digits, E.164)."""
    if not isinstance(raw, str) or not is_digits(raw) or not 7 <= len(raw) <= 15:
        return ""
    result = normalise_phone(raw)
    return result.value if result.ok else raw


def _text(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _message(raw: Any, now: int) -> MessageEvent | None:
    if not isinstance(raw, dict):
        return None
    phone, mid = _phone(raw.get("from")), raw.get("id")
    if not phone or not isinstance(mid, str) or not mid or len(mid) > MAX_ID:
        return None
    stamp = raw.get("timestamp")
    number = whole_number(stamp, max_digits=15) if isinstance(stamp, str) else None
    sent = now if number is None else number
    kind = raw.get("type") if isinstance(raw.get("type"), str) else "unknown"
    if kind == "text":
        body = raw.get("text")
        text = _text(body.get("body")) if isinstance(body, dict) else ""
        return MessageEvent(phone, mid, sent, "text", text)
    if kind == "interactive":
        inter = raw.get("interactive")
        inter = inter if isinstance(inter, dict) else {}
        reply = inter.get(str(inter.get("type")))  # button_reply or list_reply
        if inter.get("type") in ("button_reply", "list_reply") and isinstance(reply, dict):
            key = reply.get("id")
            if isinstance(key, str) and key and len(key) <= MAX_ID:
                return MessageEvent(phone, mid, sent, "choice", _text(reply.get("title")), key)
    if kind == "button":  # a template's quick-reply button: its text is the answer
        button = raw.get("button")
        if isinstance(button, dict) and isinstance(button.get("text"), str):
            return MessageEvent(phone, mid, sent, "text", _text(button["text"]))
    return MessageEvent(phone, mid, sent, kind[:32])


def _status(raw: Any) -> StatusEvent | None:
    if not isinstance(raw, dict) or raw.get("status") not in STATUSES:
        return None
    phone, mid = _phone(raw.get("recipient_id")), raw.get("id")
    if not phone or not isinstance(mid, str) or not mid or len(mid) > MAX_ID:
        return None
    errors = raw.get("errors")
    code = ""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = str(errors[0].get("code", ""))[:16]
    return StatusEvent(phone, mid, raw["status"], code)


def _values(body: bytes) -> list[dict[str, Any]]:
    """The `value` of every `messages` change, or BadNotification."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadNotification("body is not JSON") from exc
    if not isinstance(data, dict) or data.get("object") != "whatsapp_business_account":
        raise BadNotification('object must be "whatsapp_business_account"')
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise BadNotification("entry must be a list")
    values = []
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise BadNotification("every entry needs a list of changes")
        for change in changes:
            if isinstance(change, dict) and change.get("field") == "messages":
                if not isinstance(change.get("value"), dict):
                    raise BadNotification("a messages change needs a value object")
                values.append(change["value"])
    return values


def parse_notification(body: bytes, phone_number_id: str) -> tuple[list[Event], int]:
    """The events for our number, and how many entries were skipped (malformed, other number)."""
    now, events, skipped = int(time.time()), [], 0
    for value in _values(body):
        metadata = value.get("metadata")
        number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        if str(number) != phone_number_id:
            skipped += 1
            continue
        parsed: list[Event | None] = [_message(raw, now) for raw in _list(value.get("messages"))]
        parsed += [_status(raw) for raw in _list(value.get("statuses"))]
        found = [event for event in parsed if event is not None]
        events += found
        skipped += len(parsed) - len(found)
    return events, skipped


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
