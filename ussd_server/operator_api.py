"""Operator HTTP API under ``/api/`` (bearer token; see ussd_server/tokens.py).

Registry uploads, facility overview, statistics, ticket lookup and check-in,
registrant status, blast campaigns, the help desk's audit log. Every error is
JSON ``{"error": reason}``; a wrong or missing token gets 401. NIKs in answers
are masked unless the request says ``?full_nik=true``, and such a request is
logged with the token holder's label.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from core.httpjson import json_error, read_json_object, to_jsonable
from core.phone import normalise_phone
from core.privacy import mask_niks, mask_phone, redact
from core.settings import http_settings
from gateways.openapi import gateway_paths
from registration.importer import UnreadableFile
from registration.models import ImportBusy
from registration.nik import validate_nik
from ussd_server import api_docs_page, openapi
from ussd_server.api_campaigns import add_campaign_routes
from ussd_server.console.audit import audit_api
from ussd_server.context import CONTEXT, AppContext
from ussd_server.operator_errors import body_limits, json_errors
from ussd_server.public_routes import add_public_routes, public_paths
from ussd_server.settings import OperatorApiSettings
from ussd_server.tokens import OperatorTokens
from web.openapi import web_paths
from whatsapp.openapi import whatsapp_paths

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def _context(request: web.Request) -> AppContext:
    return request.config_dict[CONTEXT]


def reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(to_jsonable(data), status=status)


# --- operator API ------------------------------------------------------------------------


OPERATOR = web.RequestKey("operator", str)  # the label of the token used


DESCRIPTION_ROUTES = frozenset({"/api/openapi.json", "/api/docs"})
DOCUMENT = web.AppKey("openapi", dict)  # the API description, on the root app


def bearer_auth(tokens: OperatorTokens, public_description: bool) -> Middleware:
    """Every /api call must carry ``Authorization: Bearer <token>`` of a known holder
    (the API description too, unless ``[operator_api] public_description``)."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if public_description and request.path in DESCRIPTION_ROUTES:
            return await handler(request)
        label = tokens.label_for(request.headers.get("Authorization", ""))
        if label is None:
            raise json_error(web.HTTPUnauthorized, "missing or wrong bearer token")
        request[OPERATOR] = label
        return await handler(request)

    return check


def _full_nik(request: web.Request) -> bool:
    """``?full_nik=true`` shows NIKs in full; each such request is logged with its holder."""
    if request.query.get("full_nik", "").lower() not in ("1", "true", "yes"):
        return False
    # The query's names, not its values: a phone typed as "0812-3456-7890" is no digit
    # run redact() would recognise.
    log.info(
        "operator %s asked for full NIKs: %s %s (%s)",
        request.get(OPERATOR, "?"),
        request.method,
        redact(request.path),
        ", ".join(sorted(request.query)),
    )
    return True


def reply_masked(request: web.Request, data: Any) -> web.Response:
    """A reply whose NIKs are masked unless the request asked for them explicitly."""
    body = to_jsonable(data)
    return web.json_response(body if _full_nik(request) else mask_niks(body))


async def _csv_upload(request: web.Request) -> bytes:
    """The uploaded CSV: a raw body (text/csv) or the first file of a multipart form."""
    if request.content_type.startswith("multipart/"):
        try:
            raw = await _first_file(request)
        except (ValueError, HttpProcessingError) as exc:  # torn, boundless, a line too long
            raise json_error(web.HTTPBadRequest, "unreadable multipart upload") from exc
    else:
        raw = await request.read()
    if not raw.strip():
        raise json_error(web.HTTPBadRequest, "empty upload: send the CSV as the request body")
    return bytes(raw)


async def _first_file(request: web.Request) -> bytes:
    reader = await request.multipart()
    part = await reader.next()
    while part is not None and getattr(part, "filename", None) is None:
        part = await reader.next()
    if part is None:
        raise json_error(web.HTTPBadRequest, "multipart upload without a file part")
    return bytes(await part.read(decode=True))  # type: ignore[union-attr]


async def _import(request: web.Request, kind: str) -> web.Response:
    """Bad rows are listed in the report (200); a file that is not UTF-8 text is refused
    whole (400, naming its first bad line), before anything is written. Another import
    of the kind running all of ``import_wait_seconds``: 409, saying since when."""
    registry = _context(request).registry
    upload = await _csv_upload(request)
    load = registry.import_facilities if kind == "facilities" else registry.import_health_workers
    try:
        return reply(await load(upload))
    except UnreadableFile as exc:
        raise json_error(web.HTTPBadRequest, f"the CSV is not UTF-8 text: {exc}") from None
    except ImportBusy as exc:
        raise json_error(web.HTTPConflict, str(exc)) from None


async def upload_facilities(request: web.Request) -> web.Response:
    return await _import(request, "facilities")


async def upload_health_workers(request: web.Request) -> web.Response:
    return await _import(request, "health-workers")


async def list_facilities(request: web.Request) -> web.Response:
    return reply({"facilities": await _context(request).registry.facility_overview()})


async def statistics(request: web.Request) -> web.Response:
    return reply(await _context(request).registry.stats())


async def get_ticket(request: web.Request) -> web.Response:
    code = request.match_info["code"].upper()
    ticket = await _context(request).registry.ticket(code)
    if ticket is None:
        raise json_error(web.HTTPNotFound, f"no ticket with code {code}")
    return reply_masked(request, ticket)


MAX_PAYLOAD = 200  # a QR payload is about 60 characters, a code 8
MAX_FACILITY_ID = 32  # as the registry import allows


def _ascii_field(body: dict[str, Any], name: str, what: str, limit: int) -> str:
    """A required string field of printable ASCII, stripped; else 400 with the reason."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise json_error(web.HTTPBadRequest, f"field '{name}' ({what}) needed")
    value = value.strip()
    if len(value) > limit or not (value.isascii() and value.isprintable()):
        raise json_error(
            web.HTTPBadRequest,
            f"field '{name}' must be {what}: printable ASCII, at most {limit} characters",
        )
    return value


async def check_in(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    payload = _ascii_field(body, "payload", "a QR payload or ticket code", MAX_PAYLOAD)
    facility_id = _ascii_field(body, "facility_id", "the scanning facility", MAX_FACILITY_ID)
    result = await _context(request).registry.check_in(payload, facility_id=facility_id)
    return reply_masked(request, result)


async def registrant_status(request: web.Request) -> web.Response:
    registry = _context(request).registry
    phone, nik = request.query.get("phone"), request.query.get("nik")
    if phone:
        normalised = normalise_phone(phone)
        if not normalised.ok:
            raise json_error(web.HTTPBadRequest, f"phone: {normalised.reason}")
        statuses = await registry.status_by_phone(normalised.value)
        # Masked in its 62... form: as typed (08...) it would show one digit more.
        shown = mask_phone(normalised.value)
        log.info("operator status lookup for %s: %d found", shown, len(statuses))
        return reply_masked(request, {"registrants": statuses})
    if nik:
        checked = validate_nik(nik)  # the import's forms: spaces, dots, dashes
        if not checked.ok:
            raise json_error(web.HTTPBadRequest, f"nik: {checked.reason}")
        status = await registry.status_by_nik(checked.value)
        if status is None:
            raise json_error(web.HTTPNotFound, "no registrant with that NIK")
        return reply_masked(request, {"registrants": [status]})
    raise json_error(web.HTTPBadRequest, "give ?phone= or ?nik=")


def description_routes(api: web.Application, document: dict[str, Any]) -> None:
    page = api_docs_page.render(document)

    async def openapi_json(request: web.Request) -> web.Response:
        return web.json_response(document)

    async def docs(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    api.router.add_get("/openapi.json", openapi_json)
    api.router.add_get("/docs", docs)


def operator_app(
    tokens: OperatorTokens,
    settings: OperatorApiSettings,
    document: dict[str, Any],
    limits: tuple[int, int],
) -> web.Application:
    """``limits``: ([http] max_body_bytes, max_upload_bytes); only the CSV uploads may use
    the second."""
    max_body, max_upload = limits
    auth = bearer_auth(tokens, settings.public_description)
    uploads = frozenset({upload_facilities, upload_health_workers})
    sized = body_limits(max_body, max_upload, uploads)  # after auth: no body read for a 401
    api = web.Application(middlewares=[json_errors, auth, sized], client_max_size=max_upload)
    description_routes(api, document)
    api.router.add_post("/facilities", upload_facilities)
    api.router.add_get("/facilities", list_facilities)
    api.router.add_post("/health-workers", upload_health_workers)
    api.router.add_get("/stats", statistics)
    api.router.add_get("/tickets/{code}", get_ticket)
    api.router.add_post("/check-in", check_in)
    api.router.add_get("/registrants", registrant_status)
    api.router.add_get("/audit", audit_api)
    add_campaign_routes(api)
    return api


def setup(
    app: web.Application,
    tokens: OperatorTokens,
    settings: OperatorApiSettings,
    max_upload: int,
    page_paths: dict[str, Any],
) -> dict[str, Any]:
    """Add the public routes and the /api/ sub-app to ``app``; returns the API description
    (``page_paths`` describes the pages mounted beside it: the console, the simulator)."""
    add_public_routes(app)
    config = app[CONTEXT].config
    paths = {**public_paths(), **page_paths}
    edges = {**gateway_paths(config), **web_paths(config), **whatsapp_paths(config)}
    document = openapi.document(edges, paths, public_description=settings.public_description)
    limits = (http_settings(config).max_body_bytes, max_upload)
    app.add_subapp("/api/", operator_app(tokens, settings, document, limits))
    app[DOCUMENT] = document
    return document
