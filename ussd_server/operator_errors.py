"""The operator API's error middlewares: every error a JSON ``{"error": reason}``, Redis
away a 503 (one warning line, no traceback), request bodies within their limit.

Body limits: the root app's ``client_max_size`` is ``[http] max_upload_bytes`` so that a
registry CSV fits; only those upload routes may use it. Every other /api body (a
check-in, a campaign) is held to ``[http] max_body_bytes`` and gets 413 past it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection

from aiohttp import web
from redis import exceptions as redis_errors

from core.httpjson import as_json_error, json_error
from core.peers import client_left
from core.privacy import redact

log = logging.getLogger("ussd_server.operator_api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

DATABASE_AWAY = "the database is not reachable, try again"


def database_away(exc: BaseException) -> bool:
    """``exc`` says Redis cannot be reached or cannot take writes now (an outage, a
    failover): not a bug of ours. The lean client's FastRedisError is a redis-py
    ConnectionError and an OSError. A reply error (wrong type, a script's error) is a bug
    and keeps its traceback."""
    if isinstance(exc, redis_errors.ResponseError):
        return isinstance(exc, redis_errors.ReadOnlyError | redis_errors.BusyLoadingError)
    return isinstance(exc, redis_errors.RedisError | OSError)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        return as_json_error(exc)
    except Exception as exc:
        if client_left(request, exc):
            raise  # nobody to answer: the app's middleware notes it
        if database_away(exc):
            # An outage makes every call fail alike: a traceback each would bury the log.
            log.warning(
                "operator API %s %s: Redis not reachable (%s: %s)",
                request.method,
                redact(request.path),
                type(exc).__name__,
                redact(str(exc)),
            )
            raise json_error(web.HTTPServiceUnavailable, DATABASE_AWAY) from None
        log.exception("operator API %s %s failed", request.method, request.path)
        raise json_error(web.HTTPInternalServerError, "internal error (logged)") from None


def body_limits(max_body: int, max_upload: int, uploads: Collection[Handler]) -> Middleware:
    """Hold each request body to its route's limit: ``max_upload`` for the handlers in
    ``uploads``, ``max_body`` for the rest; past it, 413 naming the limit and setting."""

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.handler in uploads:
            size, setting = max_upload, "max_upload_bytes"
        else:
            size, setting = max_body, "max_body_bytes"
            if request.body_exists:  # the same request, read with the smaller limit
                request = request.clone(client_max_size=max_body)
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            reason = f"body is over {size} bytes ([http] {setting})"
            text = json.dumps({"error": reason})
            raise web.HTTPRequestEntityTooLarge(
                size, text=text, content_type="application/json"
            ) from None

    return limit
