"""The gateway endpoints' part of the OpenAPI description (each dialect states its contract)."""

from __future__ import annotations

from typing import Any

from core.config import Config
from gateways.dialects import DIALECTS, africastalking
from gateways.settings import dialect_settings


def _responses(dialect: Any) -> dict[str, Any]:
    def content(schemas: dict[str, Any]) -> dict[str, Any]:
        return {media: {"schema": schema} for media, schema in schemas.items()}

    return {
        "200": {"description": "the screen to show", "content": content(dialect.REPLY)},
        "400": {
            "description": "malformed request, with the reason",
            "content": content(dialect.ERROR),
        },
        "401": {"description": "missing or wrong credentials", "content": content(dialect.ERROR)},
        "403": {"description": "address not allowed", "content": content(dialect.ERROR)},
    }


def gateway_paths(config: Config) -> dict[str, Any]:
    """``POST /ussd/<name>`` for every enabled dialect (and Africa's Talking's events)."""
    paths: dict[str, Any] = {}
    for name, dialect in DIALECTS.items():
        if not dialect_settings(config, name).enabled:
            continue
        media = sorted(dialect.CONTENT_TYPES)[0]
        paths[f"/ussd/{name}"] = {
            "post": {
                "summary": dialect.SUMMARY,
                "requestBody": {"required": True, "content": {media: {"schema": dialect.REQUEST}}},
                "responses": _responses(dialect),
            }
        }
        if dialect is africastalking:
            paths["/ussd/africastalking/events"] = {
                "post": {
                    "summary": "Africa's Talking end-of-session notification",
                    "requestBody": {
                        "required": True,
                        "content": {media: {"schema": africastalking.EVENT_REQUEST}},
                    },
                    "responses": {
                        **_responses(dialect),
                        "200": {
                            "description": "counted; the session is closed",
                            "content": {"text/plain": {"schema": {"const": "OK"}}},
                        },
                    },
                }
            }
    return paths
