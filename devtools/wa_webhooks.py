"""Webhook notifications as Meta sends them, for the development Graph API and the benchmark.

:func:`message_notification` and :func:`status_notification` build the JSON Meta
posts to a business's callback; :func:`signed` gives the body and the
``X-Hub-Signature-256`` header made with the app secret.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson

from whatsapp.webhook import SIGNATURE_HEADER, signature

DISPLAY_NUMBER = "6281119119119"


def _notification(phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": phone_number_id},
        **value,
    }
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [change]}]}


def new_message_id() -> str:
    return "wamid.IN" + uuid.uuid4().hex.upper()


def message(
    sender: str,
    *,
    text: str | None = None,
    button: tuple[str, str] | None = None,
    row: tuple[str, str, str] | None = None,
    kind: str = "",
    message_id: str = "",
    timestamp: int = 0,
) -> dict[str, Any]:
    """One incoming message: text, a button reply (id, title), a list reply (id, title,
    description) or another type (`kind`: image, audio, location...)."""
    base: dict[str, Any] = {
        "from": sender,
        "id": message_id or new_message_id(),
        "timestamp": str(timestamp or int(time.time())),
    }
    if button is not None:
        reply = {"id": button[0], "title": button[1]}
        base.update(type="interactive", interactive={"type": "button_reply", "button_reply": reply})
    elif row is not None:
        reply = {"id": row[0], "title": row[1], "description": row[2]}
        base.update(type="interactive", interactive={"type": "list_reply", "list_reply": reply})
    elif text is not None:
        base.update(type="text", text={"body": text})
    else:
        kind = kind or "image"
        base.update(type=kind, **{kind: {"id": "media-" + uuid.uuid4().hex[:8]}})
    return base


def message_notification(phone_number_id: str, incoming: dict[str, Any]) -> dict[str, Any]:
    contact = {"profile": {"name": "Nakes"}, "wa_id": incoming["from"]}
    return _notification(phone_number_id, {"contacts": [contact], "messages": [incoming]})


def status_notification(
    phone_number_id: str, message_id: str, recipient: str, status: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if status == "failed":
        entry["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
    return _notification(phone_number_id, {"statuses": [entry]})


def signed(app_secret: str, notification: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers Meta sends with it."""
    body = orjson.dumps(notification)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(app_secret, body)}
    return body, headers
