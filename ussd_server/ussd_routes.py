"""The gateway endpoints: ``POST /ussd/<dialect>`` for every enabled dialect, plus AT events.

A handler only checks authentication, content type and size, lets the dialect
parse, asks the engine and lets the dialect format the reply. Every malformed
request gets 400 with the reason in the dialect's own format; nothing a gateway
sends can take the server down.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import ModuleType

from aiohttp import web

from registration.config import Config
from registration.privacy import mask_phone
from ussd_server.auth import DialectSettings, Guard
from ussd_server.context import CONTEXT
from ussd_server.dialects import DIALECTS, BadRequest, africastalking

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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


def _precheck(dialect: ModuleType, guard: Guard, request: web.Request) -> web.Response | None:
    if guard.active:
        refused = guard.check(request)
        if refused is not None:
            log.warning("%s request refused: %s", dialect.NAME, refused[1])
            return dialect.error(*refused)
    if request.content_type not in dialect.CONTENT_TYPES:
        wanted = " or ".join(sorted(dialect.CONTENT_TYPES))
        return dialect.error(400, f"content type must be {wanted}, not {request.content_type}")
    return None


def make_handler(dialect: ModuleType, guard: Guard, limit: int, max_body: int) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        refused = _precheck(dialect, guard, request)
        if refused is not None:
            return refused
        try:
            inbound = dialect.parse(await read_body(request, max_body))
        except BadRequest as exc:
            return dialect.error(400, str(exc))
        out = await request.config_dict[CONTEXT].engine.handle(inbound, max_chars=limit)
        return dialect.reply(inbound, out)

    return handle


def make_events_handler(guard: Guard, max_body: int) -> Handler:
    """Africa's Talking end-of-session notification: count the outcome, close the session."""

    async def events(request: web.Request) -> web.StreamResponse:
        refused = _precheck(africastalking, guard, request)
        if refused is not None:
            return refused
        try:
            inbound, status = africastalking.parse_event(await read_body(request, max_body))
        except BadRequest as exc:
            return africastalking.error(400, str(exc))
        ctx = request.config_dict[CONTEXT]
        await ctx.redis.hincrby(ctx.keys.ussd_outcomes(), f"africastalking:{status}", 1)
        await ctx.engine.handle(inbound)
        log.info("session of %s ended: %s", mask_phone(inbound.msisdn), status)
        return web.Response(text="OK")

    return events


def add_routes(app: web.Application, config: Config) -> list[str]:
    """Add every enabled dialect's endpoint; returns the paths added."""
    default_limit = int(config.section("ussd").get("max_screen_chars", 160))
    max_body = int(config.section("http").get("max_body_bytes", 16384))
    paths: list[str] = []
    for name, dialect in DIALECTS.items():
        settings = config.load(f"ussd.dialects.{name}", DialectSettings)
        if not settings.enabled:
            continue
        guard = Guard(name, settings, config)
        limit = settings.max_screen_chars or default_limit
        app.router.add_post(f"/ussd/{name}", make_handler(dialect, guard, limit, max_body))
        paths.append(f"/ussd/{name}")
        if name == africastalking.NAME:
            app.router.add_post("/ussd/africastalking/events", make_events_handler(guard, max_body))
            paths.append("/ussd/africastalking/events")
    return paths
