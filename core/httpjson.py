"""JSON over HTTP: domain dataclasses to JSON-ready values, JSON errors, JSON bodies."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from enum import Enum
from typing import Any

from aiohttp import web


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    return value


def json_error(status: type[web.HTTPException], reason: str) -> web.HTTPException:
    """An HTTP error whose body is ``{"error": reason}`` (raise it from a handler)."""
    return status(text=json.dumps({"error": reason}), content_type="application/json")


def as_json_error(exc: web.HTTPException) -> web.Response:
    """``exc`` (aiohttp's own 404, 405, 413...) as a JSON error of the same status.

    Made here rather than by raising ``type(exc)`` again: some of aiohttp's errors need
    more arguments (405 its method and allowed methods, 413 the sizes). The headers
    that matter to a client, such as 405's ``Allow``, are kept.
    """
    reason = exc.reason if exc.text is None else exc.text
    headers = {k: v for k, v in exc.headers.items() if k.lower() in _KEPT_HEADERS}
    return web.json_response({"error": reason}, status=exc.status, headers=headers)


_KEPT_HEADERS = frozenset({"allow", "retry-after", "www-authenticate"})


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 saying what is wrong with it."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise json_error(web.HTTPBadRequest, "body must be JSON") from exc
    if not isinstance(body, dict):
        raise json_error(web.HTTPBadRequest, "body must be a JSON object")
    return body
