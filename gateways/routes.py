"""The gateway endpoints: ``POST /ussd/<dialect>`` for every enabled dialect, plus AT events.

A handler only checks authentication, content type and size, lets the dialect
parse, asks the engine and lets the dialect format the reply. Every malformed
request gets 400 with the reason in the dialect's own format; nothing a gateway
sends can take the server down.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from types import ModuleType

import redis.asyncio as aioredis
from aiohttp import web

from core import metrics
from core.config import Config, ConfigError
from core.logs import log_context
from core.privacy import mask_phone
from core.settings import http_settings, redis_settings
from dialogue.model import Dialogue
from gateways.auth import Guard
from gateways.dialects import DIALECTS, africastalking
from gateways.keys import GatewayKeys
from gateways.parsing import BadRequest
from gateways.settings import dialect_settings, gateway_settings

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


def make_handler(
    engine: Dialogue, dialect: ModuleType, guard: Guard, limit: int, max_body: int
) -> Handler:
    count = metrics.USSD_HOPS.labels
    outcomes = {o: count(dialect.NAME, o) for o in ("continue", "end", "busy", "bad_request")}
    refused_count = count(dialect.NAME, "refused")
    latency = metrics.USSD_HOP_SECONDS.labels(dialect.NAME)
    channel = f"ussd/{dialect.NAME}"

    async def handle(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        refused = _precheck(dialect, guard, request)
        if refused is not None:
            (refused_count if refused.status in (401, 403) else outcomes["bad_request"]).inc()
            return refused
        try:
            inbound = dialect.parse(await read_body(request, max_body))
        except BadRequest as exc:
            outcomes["bad_request"].inc()
            return dialect.error(400, str(exc))
        request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex[:16]
        with log_context(request_id=request_id, channel=channel, msisdn=inbound.msisdn):
            out = await engine.handle(inbound, max_chars=limit)
        outcomes["busy" if out.busy else "end" if out.end else "continue"].inc()
        latency.observe(time.perf_counter() - started)
        return dialect.reply(inbound, out)

    return handle


def make_events_handler(
    engine: Dialogue, redis: aioredis.Redis, keys: GatewayKeys, guard: Guard, max_body: int
) -> Handler:
    """Africa's Talking end-of-session notification: count the outcome, close the session."""

    async def events(request: web.Request) -> web.StreamResponse:
        refused = _precheck(africastalking, guard, request)
        if refused is not None:
            return refused
        try:
            inbound, status = africastalking.parse_event(await read_body(request, max_body))
        except BadRequest as exc:
            return africastalking.error(400, str(exc))
        await redis.hincrby(keys.ussd_outcomes(), f"africastalking:{status}", 1)
        await engine.handle(inbound)
        log.info("session of %s ended: %s", mask_phone(inbound.msisdn), status)
        return web.Response(text="OK")

    return events


def add_routes(
    app: web.Application, config: Config, engine: Dialogue, redis: aioredis.Redis
) -> list[str]:
    """Add every enabled dialect's endpoint; returns the paths added."""
    gateway = gateway_settings(config)
    default_limit = gateway.max_screen_chars
    max_body = http_settings(config).max_body_bytes
    keys = GatewayKeys(redis_settings(config).key_prefix)
    paths: list[str] = []
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
        limit = settings.max_screen_chars or default_limit
        app.router.add_post(f"/ussd/{name}", make_handler(engine, dialect, guard, limit, max_body))
        paths.append(f"/ussd/{name}")
        if name == africastalking.NAME:
            app.router.add_post(
                "/ussd/africastalking/events",
                make_events_handler(engine, redis, keys, guard, max_body),
            )
            paths.append("/ussd/africastalking/events")
    return paths
