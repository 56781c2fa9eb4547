"""The gateway endpoints, ``POST /ussd/<dialect>`` for every enabled dialect plus the
Africa's Talking events, as one table of handlers, and their aiohttp routes.

:func:`gateway_handlers` builds the table once per process (authentication is read
and checked here: an enabled dialect without any refuses the start); the aiohttp
application serves it on the main port and the lean listener
(:mod:`gateways.listener`) on ``[ussd] gateway_port`` when that is set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from aiohttp import web

from core.config import Config, ConfigError
from core.settings import http_settings, redis_settings
from dialogue.model import Dialogue
from gateways.auth import Guard
from gateways.dialects import DIALECTS, africastalking
from gateways.exchange import GatewayRequest, Reply, media_type
from gateways.hops import HopHandler, events_handler, hop_handler
from gateways.keys import GatewayKeys
from gateways.parsing import BadRequest
from gateways.settings import dialect_settings, gateway_settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def gateway_handlers(
    config: Config, engine: Dialogue, redis: aioredis.Redis
) -> dict[str, HopHandler]:
    """Path -> handler for every enabled dialect (and the AT events)."""
    gateway = gateway_settings(config)
    keys = GatewayKeys(redis_settings(config).key_prefix)
    handlers: dict[str, HopHandler] = {}
    for name, dialect in DIALECTS.items():
        settings = dialect_settings(config, name)
        if not settings.enabled:
            continue
        guard = Guard(name, settings, config)
        if not guard.active and not gateway.allow_unauthenticated:
            raise ConfigError(
                f"USSD dialect {name!r} is enabled without authentication: set "
                f"auth_header, basic_user or allow_cidrs in [ussd.dialects.{name}], "
                "disable it, or set [ussd] allow_unauthenticated = true "
                "(USSD_USSD_ALLOW_UNAUTHENTICATED=true) for a closed test network"
            )
        limit = settings.max_screen_chars or gateway.max_screen_chars
        handlers[f"/ussd/{name}"] = hop_handler(engine, dialect, guard, limit)
        if dialect is africastalking:
            handlers["/ussd/africastalking/events"] = events_handler(engine, redis, keys, guard)
    return handlers


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body, refused past `limit` bytes without reading it all into memory."""
    if request.content_length is not None and request.content_length > limit:
        raise BadRequest(f"body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _response(reply: Reply) -> web.Response:
    return web.Response(
        status=reply.status, body=reply.body, headers={"Content-Type": reply.content_type}
    )


def _aiohttp_route(
    handler: HopHandler, error: Callable[[int, str], Reply], max_body: int
) -> Handler:
    async def route(request: web.Request) -> web.StreamResponse:
        try:
            body = await read_body(request, max_body)
        except BadRequest as exc:
            return _response(error(400, str(exc)))
        exchange = GatewayRequest(
            request.remote or "", request.headers, media_type(request.content_type), body
        )
        return _response(await handler(exchange))

    return route


def add_routes(
    app: web.Application, config: Config, engine: Dialogue, redis: aioredis.Redis
) -> dict[str, HopHandler]:
    """Serve every enabled dialect's endpoint on ``app``; returns the handlers by path."""
    handlers = gateway_handlers(config, engine, redis)
    max_body = http_settings(config).max_body_bytes
    for path, handler in handlers.items():
        dialect = DIALECTS[path.split("/")[2]]
        app.router.add_post(path, _aiohttp_route(handler, dialect.error, max_body))
    return handlers
