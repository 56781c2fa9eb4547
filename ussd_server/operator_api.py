"""Operator HTTP API (bearer token) and the public routes beside it.

Public: ``GET /healthz`` (checks Redis), ``GET /tickets/{code}.png|.svg`` (the QR
image linked from the ticket SMS). Operators, under ``/api/`` with
``Authorization: Bearer <token>``: registry uploads, facility overview,
statistics, ticket lookup and check-in, registrant status, blast campaigns.
Every error is JSON ``{"error": reason}``; a wrong or missing token gets 401.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from core.httpjson import json_error, to_jsonable
from core.phone import normalise_phone
from core.privacy import mask_phone
from ussd_server.api_campaigns import add_campaign_routes
from ussd_server.context import CONTEXT, AppContext

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _context(request: web.Request) -> AppContext:
    return request.config_dict[CONTEXT]


def reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(to_jsonable(data), status=status)


# --- public routes -----------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    try:
        await _context(request).redis.ping()
    except Exception as exc:  # any Redis failure means "not healthy", with the reason
        return web.json_response({"status": "error", "redis": str(exc)}, status=503)
    return web.json_response({"status": "ok", "redis": "ok"})


async def ticket_image(request: web.Request) -> web.Response:
    code, fmt = request.match_info["code"].upper(), request.match_info["fmt"]
    registry = _context(request).registry
    ticket = await registry.ticket(code)
    if ticket is None:
        raise json_error(web.HTTPNotFound, f"no ticket with code {code}")
    if fmt == "png":
        body, content_type = registry.ticket_png(ticket), "image/png"
    else:
        body, content_type = registry.ticket_svg(ticket), "image/svg+xml"
    # The image never changes for a code; state is checked at the site by signature.
    return web.Response(
        body=body,
        content_type=content_type,
        headers={"Cache-Control": "public, max-age=3600"},
    )


# --- operator API ------------------------------------------------------------------------


_TOKEN_CACHE = "operator_api.bearer"


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    ctx = _context(request)
    expected = ctx.extras.get(_TOKEN_CACHE)
    if expected is None:
        # Read once per process; config.secret raises a ConfigError naming the setting.
        expected = ctx.extras[_TOKEN_CACHE] = f"Bearer {ctx.config.secret('operator_api', 'token')}"
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise json_error(web.HTTPUnauthorized, "missing or wrong bearer token")
    return await handler(request)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.content_type == "application/json" or exc.status < 400:
            raise
        raise json_error(type(exc), exc.reason if exc.text is None else exc.text) from None
    except Exception:
        log.exception("operator API %s %s failed", request.method, request.path)
        raise json_error(web.HTTPInternalServerError, "internal error (logged)") from None


async def _csv_text(request: web.Request) -> str:
    """The uploaded CSV as text: a raw body (text/csv) or the first file of a multipart form."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        part = await reader.next()
        while part is not None and getattr(part, "filename", None) is None:
            part = await reader.next()
        if part is None:
            raise json_error(web.HTTPBadRequest, "multipart upload without a file part")
        raw = await part.read(decode=True)  # type: ignore[union-attr]
    else:
        raw = await request.read()
    if not raw.strip():
        raise json_error(web.HTTPBadRequest, "empty upload: send the CSV as the request body")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise json_error(
            web.HTTPBadRequest, f"the CSV is not valid UTF-8 (byte {exc.start})"
        ) from None


async def upload_facilities(request: web.Request) -> web.Response:
    ctx = _context(request)
    text = await _csv_text(request)
    report = await ctx.registry.import_facilities(io.StringIO(text))
    return reply(report)


async def upload_health_workers(request: web.Request) -> web.Response:
    ctx = _context(request)
    text = await _csv_text(request)
    report = await ctx.registry.import_health_workers(io.StringIO(text))
    return reply(report)


async def list_facilities(request: web.Request) -> web.Response:
    return reply({"facilities": await _context(request).registry.facility_overview()})


async def statistics(request: web.Request) -> web.Response:
    return reply(await _context(request).registry.stats())


async def get_ticket(request: web.Request) -> web.Response:
    code = request.match_info["code"].upper()
    ticket = await _context(request).registry.ticket(code)
    if ticket is None:
        raise json_error(web.HTTPNotFound, f"no ticket with code {code}")
    return reply(ticket)


async def check_in(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise json_error(web.HTTPBadRequest, 'body must be JSON: {"payload": ...}') from None
    payload = body.get("payload") if isinstance(body, dict) else None
    if not isinstance(payload, str) or not payload.strip():
        raise json_error(web.HTTPBadRequest, "field 'payload' (QR payload or ticket code) needed")
    result = await _context(request).registry.check_in(payload.strip())
    return reply(result)


async def registrant_status(request: web.Request) -> web.Response:
    registry = _context(request).registry
    phone, nik = request.query.get("phone"), request.query.get("nik")
    if phone:
        normalised = normalise_phone(phone)
        if not normalised.ok:
            raise json_error(web.HTTPBadRequest, f"phone: {normalised.reason}")
        statuses = await registry.status_by_phone(normalised.value)
        log.info("operator status lookup for %s: %d found", mask_phone(phone), len(statuses))
        return reply({"registrants": statuses})
    if nik:
        status = await registry.status_by_nik(nik.strip())
        if status is None:
            raise json_error(web.HTTPNotFound, "no registrant with that NIK")
        return reply({"registrants": [status]})
    raise json_error(web.HTTPBadRequest, "give ?phone= or ?nik=")


def operator_app(max_upload_bytes: int) -> web.Application:
    api = web.Application(middlewares=[json_errors, bearer_auth], client_max_size=max_upload_bytes)
    api.router.add_post("/facilities", upload_facilities)
    api.router.add_get("/facilities", list_facilities)
    api.router.add_post("/health-workers", upload_health_workers)
    api.router.add_get("/stats", statistics)
    api.router.add_get("/tickets/{code}", get_ticket)
    api.router.add_post("/check-in", check_in)
    api.router.add_get("/registrants", registrant_status)
    add_campaign_routes(api)
    return api


def setup(app: web.Application, max_upload_bytes: int = 256 * 1024 * 1024) -> None:
    """Add /healthz, /tickets/{code}.png|.svg and the /api/ sub-app to ``app``.

    Handlers find shared objects through ``request.config_dict[CONTEXT]``, so the
    context may be set on ``app`` at start-up (cleanup_ctx), after this call.
    """
    app.router.add_get("/healthz", healthz)
    app.router.add_get(r"/tickets/{code:[A-Za-z0-9]+}.{fmt:png|svg}", ticket_image)
    app.add_subapp("/api/", operator_app(max_upload_bytes))
