"""The WhatsApp webhook's part of the OpenAPI description (when ``[whatsapp] enabled``)."""

from __future__ import annotations

from typing import Any

from core.config import Config
from whatsapp.routes import PATH
from whatsapp.settings import whatsapp_settings
from whatsapp.webhook import SIGNATURE_HEADER

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

NOTIFICATION: dict[str, Any] = {
    "type": "object",
    "description": "Meta's notification; only `messages` changes for our number are read",
    "properties": {
        "object": {"const": "whatsapp_business_account"},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "changes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "field": {"type": "string", "examples": ["messages"]},
                                "value": {
                                    "type": "object",
                                    "description": (
                                        "metadata.phone_number_id; messages (text, "
                                        "interactive button_reply/list_reply, others); statuses"
                                    ),
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "required": ["object", "entry"],
}


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string"}}  # fmt: skip


def whatsapp_paths(config: Config) -> dict[str, Any]:
    if not whatsapp_settings(config).enabled:
        return {}
    signature = {
        "name": SIGNATURE_HEADER,
        "in": "header",
        "required": True,
        "description": "sha256=<hex HMAC-SHA256 of the raw body, key = the app secret>",
        "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
    }
    accepted = {"type": "object", "properties": {"accepted": {"type": "integer"}}}
    return {
        PATH: {
            "get": {
                "summary": "WhatsApp webhook verification (Meta's subscription handshake)",
                "parameters": [
                    _query("hub.mode", "must be subscribe"),
                    _query("hub.verify_token", "must be the configured verify token"),
                    _query("hub.challenge", "echoed back"),
                ],
                "responses": {
                    "200": {
                        "description": "the challenge, echoed",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "403": {"description": "wrong mode or token", "content": _ERROR},
                },
            },
            "post": {
                "summary": "WhatsApp notification: messages and delivery statuses",
                "parameters": [signature],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": NOTIFICATION}},
                },
                "responses": {
                    "200": {
                        "description": "accepted; answered after (idempotent by message id)",
                        "content": {"application/json": {"schema": accepted}},
                    },
                    "400": {"description": "not a WhatsApp notification", "content": _ERROR},
                    "401": {"description": "missing or wrong signature", "content": _ERROR},
                    "413": {"description": "body too large", "content": _ERROR},
                    "503": {"description": "Redis unavailable: retried by Meta", "content": _ERROR},
                },
            },
        }
    }
