"""The registration website's part of the OpenAPI description (when `[web] enabled`)."""

from __future__ import annotations

from typing import Any

from core.config import Config
from web.settings import web_settings

_HTML = {"text/html": {"schema": {"type": "string"}}}
_CSRF = {"csrf": {"type": "string", "description": "the form's token (bound to the session)"}}
_FORMS: dict[str, tuple[str, dict[str, Any]]] = {
    "/daftar/phone": (
        "send a one-time code by SMS to this phone",
        {"phone": {"type": "string", "description": "0812..., +62812... or 62812..."}},
    ),
    "/daftar/code": (
        "check the one-time code (or send a new one, or change the phone)",
        {
            "code": {"type": "string", "pattern": "^[0-9]{6}$"},
            "do": {"enum": ["resend", "change"], "description": "instead of checking a code"},
        },
    ),
    "/daftar/answer": (
        "answer the current screen of the dialogue",
        {
            "hop": {"type": "string", "description": "the answer's number (the form's own)"},
            "choice": {"type": "string", "description": "the key of the option or list row"},
            "text": {"type": "string", "description": "an input screen's answer"},
            "nav": {"enum": ["0", "98", "00"], "description": "back, more, main menu"},
            "start": {"const": "1", "description": "start the dialogue again"},
        },
    ),
    "/daftar/lang": ("switch the site's language", {"lang": {"enum": ["id", "en"]}}),
    "/daftar/logout": ("forget the proven phone: a new session", {}),
}


def _post(summary: str, fields: dict[str, Any]) -> dict[str, Any]:
    schema = {"type": "object", "required": ["csrf"], "properties": {**_CSRF, **fields}}
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": schema}},
            },
            "responses": {
                "303": {"description": "done: see /daftar for the next page"},
                "400": {
                    "description": "the page again, the error next to its field",
                    "content": _HTML,
                },
                "403": {
                    "description": "missing or wrong CSRF token: nothing changed",
                    "content": _HTML,
                },
                "429": {"description": "too many codes (phone or address)", "content": _HTML},
                "503": {"description": "the service is busy", "content": _HTML},
            },
        }
    }


def web_paths(config: Config) -> dict[str, Any]:
    """``/daftar`` and its forms, when the site is enabled."""
    if not web_settings(config).enabled:
        return {}
    page = {
        "get": {
            "summary": "the registration website: the page for where this browser's session is",
            "responses": {
                "200": {"description": "the page (sets the session cookie)", "content": _HTML},
                "503": {"description": "the service is busy", "content": _HTML},
            },
        }
    }
    return {"/daftar": page, **{path: _post(*form) for path, form in _FORMS.items()}}
