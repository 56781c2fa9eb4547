"""Routes without a token: ``GET /healthz`` and the QR image linked from the ticket SMS.

``GET /tickets/{code}.png|.svg`` serves an active ticket only (a cancelled or used
one is 404) and never lets a shared cache keep it, since a ticket can be revoked.
A client that asks for many unknown codes is probing for tickets: after
``[ticket_images] probe_limit`` misses in a window it gets 429 until the window ends.
While Redis is down it answers 503 (a WARNING line, no traceback): the page is
opened by people from their SMS, and the outage is the server's, not theirs.
"""

from __future__ import annotations

import logging

from aiohttp import web
from redis.exceptions import RedisError

from core.httpjson import json_error
from core.peers import client_address
from core.settings import http_settings
from registration.models import TicketState
from ussd_server.context import CONTEXT
from ussd_server.keys import ShellKeys
from ussd_server.settings import ticket_image_settings

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store, private"}


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.config_dict[CONTEXT].redis.ping()
    except Exception as exc:  # any Redis failure means "not healthy", with the reason
        return web.json_response({"status": "error", "redis": str(exc)}, status=503)
    return web.json_response({"status": "ok", "redis": "ok"})


async def _too_many_misses(request: web.Request, address: str, record_miss: bool) -> bool:
    ctx = request.config_dict[CONTEXT]
    limits = ticket_image_settings(ctx.config)
    key = ShellKeys(ctx.key_prefix).ticket_probe(address)
    if not record_miss:
        return int(await ctx.redis.get(key) or 0) >= limits.probe_limit
    async with ctx.redis.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, limits.probe_window_seconds, nx=True)
        misses, _ = await pipe.execute()
    return int(misses) > limits.probe_limit


async def ticket_image(request: web.Request) -> web.Response:
    try:
        return await _ticket_image(request)
    except (RedisError, OSError) as exc:  # the lean client's errors are RedisErrors too
        log.warning("ticket image: Redis unavailable, answering 503: %s", exc)
        raise json_error(web.HTTPServiceUnavailable, "temporarily unavailable: try later") from None


async def _ticket_image(request: web.Request) -> web.Response:
    code, fmt = request.match_info["code"].upper(), request.match_info["fmt"]
    ctx = request.config_dict[CONTEXT]
    address = client_address(request, http_settings(ctx.config).client_address_header)
    if await _too_many_misses(request, address, record_miss=False):
        raise json_error(web.HTTPTooManyRequests, "too many unknown ticket codes: try later")
    registry = request.config_dict[CONTEXT].registry
    ticket = await registry.ticket(code)
    if ticket is None or ticket.state is not TicketState.ACTIVE:
        if await _too_many_misses(request, address, record_miss=True):
            log.warning("ticket image probing from %s: answering 429", address)
        raise json_error(web.HTTPNotFound, f"no active ticket with code {code}")
    if fmt == "png":
        body, content_type = registry.ticket_png(ticket), "image/png"
    else:
        body, content_type = registry.ticket_svg(ticket), "image/svg+xml"
    return web.Response(body=body, content_type=content_type, headers=NO_STORE)


def add_public_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get(r"/tickets/{code:[A-Za-z0-9]+}.{fmt:png|svg}", ticket_image)


def public_paths() -> dict[str, object]:
    """These routes' part of the OpenAPI description."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    code_schema = {"type": "string", "pattern": "^[A-Za-z0-9]+$"}  # as the route matches it
    code = {"name": "code", "in": "path", "required": True, "schema": code_schema}
    fmt = {"name": "fmt", "in": "path", "required": True, "schema": {"enum": ["png", "svg"]}}
    health = {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}
    return {
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics of every process of this host",
                "security": [{}, {"bearer": []}],
                "responses": {
                    "200": {
                        "description": "the Prometheus text format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "401": {"description": "a token is configured and missing", "content": error},
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "is the server up and Redis reachable",
                "responses": {
                    "200": {"description": "healthy", "content": health},
                    "503": {"description": "Redis does not answer", "content": health},
                },
            }
        },
        "/tickets/{code}.{fmt}": {
            "get": {
                "summary": "the QR image of an active ticket (linked from the ticket SMS)",
                "parameters": [code, fmt],
                "responses": {
                    "200": {
                        "description": "the QR code (never cached by shared caches)",
                        "content": {
                            "image/png": {"schema": {"type": "string", "format": "binary"}},
                            "image/svg+xml": {"schema": {"type": "string"}},
                        },
                    },
                    "404": {"description": "no active ticket", "content": error},
                    "429": {"description": "too many unknown codes", "content": error},
                    "503": {"description": "Redis does not answer", "content": error},
                },
            }
        },
    }
