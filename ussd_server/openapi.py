"""The OpenAPI 3.1 description of every HTTP route the server answers.

Served at ``/api/openapi.json`` and as a page at ``/api/docs`` (no CDN: the
service may run without internet). `tests/test_openapi.py` checks that every
route the app serves is described, that the document validates, and the
operator API tests check answers against these schemas.
"""

from __future__ import annotations

from typing import Any

from ussd_server.console.audit import MAX_LIMIT
from ussd_server.openapi_schema import JsonSchema, components

JSON = "application/json"


def _ref(name: str) -> JsonSchema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: JsonSchema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _param(where: str, name: str, description: str, schema: JsonSchema | None = None) -> Any:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema or {"type": "string"},
    }


SHOW_NIKS = "true: show NIKs in full (the request is logged with the token holder's label)"
FULL_NIK = _param("query", "full_nik", SHOW_NIKS, {"type": "boolean"})
UNAUTHORIZED = {"401": _error("missing or wrong bearer token")}
CSV_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": {"type": "string"}}}
        },
    },
}
SECURITY = [{"bearer": []}]


DATABASE_AWAY = {"503": _error("the database (Redis) is not reachable now: try again")}
TOO_LARGE = {
    "413": _error("the body is over [http] max_body_bytes (a CSV upload: over max_upload_bytes)")
}


def _op(summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    """An operator operation: bearer token required (so 401 without it); it reads Redis
    (so 503 while Redis is away) and a body has its size limit (413)."""
    sized = TOO_LARGE if "requestBody" in more else {}
    return {
        "summary": summary,
        "security": SECURITY,
        "responses": {**UNAUTHORIZED, **DATABASE_AWAY, **sized, **responses},
        **more,
    }


def _array_of(field: str, item: str) -> JsonSchema:
    return {
        "type": "object",
        "properties": {field: {"type": "array", "items": _ref(item)}},
        "required": [field],
        "additionalProperties": False,
    }


def operator_paths(public_description: bool) -> dict[str, Any]:
    """The /api/ routes (bearer token)."""
    return {
        **registry_paths(),
        **lookup_paths(),
        **check_in_paths(),
        **audit_paths(),
        **campaign_paths(_op),
        **description_paths(public_description),
    }


def registry_paths() -> dict[str, Any]:
    report = _json(_ref("ImportReport"), "the import report: bad rows with line numbers")
    refused = _error("empty, or not UTF-8 text (the first bad line named; nothing imported)")
    busy = _error("another import of this kind is running (since when named): try again later")
    upload_errors = {"200": report, "400": refused, "409": busy}
    return {
        "/api/facilities": {
            "get": _op(
                "every facility with its capacity and seats booked over the booking window",
                {"200": _json(_array_of("facilities", "FacilityOverview"), "facilities")},
            ),
            "post": _op(
                "upload the facilities CSV (facility_id,name,regency,address,daily_capacity)",
                upload_errors,
                requestBody=CSV_BODY,
            ),
        },
        "/api/health-workers": {
            "post": _op(
                "upload the health workers CSV (nik,full_name,phone,profession,facility_id)",
                upload_errors,
                requestBody=CSV_BODY,
            )
        },
        "/api/stats": {
            "get": _op(
                "registrations by status, overall and by regency",
                {"200": _json(_ref("Statistics"), "statistics")},
            )
        },
    }


def lookup_paths() -> dict[str, Any]:
    return {
        "/api/registrants": {
            "get": _op(
                "registration status by phone (a household may share one) or by NIK",
                {
                    "200": _json(
                        _array_of("registrants", "RegistrantStatus"),
                        "registrants found (NIKs masked unless full_nik)",
                    ),
                    "400": _error("neither phone nor nik, or a bad phone"),
                    "404": _error("no registrant with that NIK"),
                },
                parameters=[
                    _param("query", "phone", "an Indonesian mobile number in any usual form"),
                    _param("query", "nik", "a full NIK"),
                    FULL_NIK,
                ],
            )
        },
        "/api/tickets/{code}": {
            "get": _op(
                "a ticket by its short code",
                {
                    "200": _json(_ref("Ticket"), "the ticket (NIK masked unless full_nik)"),
                    "404": _error("no ticket with that code"),
                },
                parameters=[_param("path", "code", "the ticket code"), FULL_NIK],
            )
        },
    }


SCANNING = (
    "the scanning facility: another facility's ticket is wrong_facility, another day's (beyond "
    "[registration] check_in_tolerance_days) wrong_day, a dose 2 before its due date too_early"
)


def check_in_paths() -> dict[str, Any]:
    """Check-in at the site: the ticket, the scanning facility, today (see checkin.py)."""
    payload = {
        "type": "object",
        "properties": {
            "payload": {"type": "string", "minLength": 1, "maxLength": 200},
            "facility_id": {"type": "string", "maxLength": 32, "description": SCANNING},
        },
        "required": ["payload", "facility_id"],
    }
    return {
        "/api/check-in": {
            "post": _op(
                "check a ticket in at the site: a scanned QR payload or a typed code, "
                "at the scanning facility, on the ticket's day (only valid checks it in)",
                {
                    "200": _json(_ref("CheckInResult"), "the outcome"),
                    "400": _error("no payload or facility_id, or not printable ASCII"),
                },
                parameters=[FULL_NIK],
                requestBody={"required": True, "content": {JSON: {"schema": payload}}},
            )
        },
    }


def audit_paths() -> dict[str, Any]:
    """The help desk's audit log (see ussd_server/console/audit.py)."""
    bounds = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
    limit = _param("query", "limit", "how many (default 100)", bounds)
    return {
        "/api/audit": {
            "get": _op(
                "the help desk's audit log: agent, action, masked NIK, time (newest first)",
                {
                    "200": _json(_array_of("entries", "AuditEntry"), "the latest entries"),
                    "400": _error(f"limit is not a whole number from 1 to {MAX_LIMIT}"),
                },
                parameters=[limit],
            )
        }
    }


def description_paths(public: bool) -> dict[str, Any]:
    """This document and its page: no token asked when ``[operator_api] public_description``."""
    page = {"description": "HTML", "content": {"text/html": {}}}
    described = {
        "/api/openapi.json": ("this OpenAPI 3.1 description", _json({"type": "object"}, "it")),
        "/api/docs": ("the same description as a page", page),
    }
    security, refused = ([], {}) if public else (SECURITY, UNAUTHORIZED)
    return {
        path: {
            "get": {"summary": summary, "security": security, "responses": {"200": ok, **refused}}
        }
        for path, (summary, ok) in described.items()
    }


def campaign_paths(op: Any) -> dict[str, Any]:
    progress = _json(_ref("CampaignProgress"), "the campaign's progress")
    name = _param("path", "name", "the campaign's name")
    create = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"},
            "template": {"type": "string", "minLength": 1},
            "filters": {"type": "object"},
            "only_unregistered": {"type": "boolean"},
        },
        "required": ["name", "template"],
    }
    listing = _array_of("campaigns", "CampaignProgress")
    action = _param(
        "path", "action", "what to do", {"enum": ["start", "pause", "resume", "cancel"]}
    )
    return {
        "/api/campaigns": {
            "get": op("every campaign's progress", {"200": _json(listing, "campaigns")}),
            "post": op(
                "create a draft blast campaign (the template is linted)",
                {"201": progress, "400": _error("bad name, template or filter")},
                requestBody={"required": True, "content": {JSON: {"schema": create}}},
            ),
        },
        "/api/campaigns/{name}": {
            "get": op(
                "one campaign's progress",
                {"200": progress, "404": _error("no such campaign")},
                parameters=[name],
            )
        },
        "/api/campaigns/{name}/{action}": {
            "post": op(
                "start, pause, resume or cancel a campaign",
                {
                    "200": progress,
                    "404": _error("no such campaign or action"),
                    "409": _json(_ref("CampaignConflict"), "not possible in the campaign's state"),
                },
                parameters=[name, action],
            )
        },
    }


def document(
    edge_paths: dict[str, Any], public_paths: dict[str, Any], *, public_description: bool
) -> dict[str, Any]:
    """The whole description; the edges (gateways, the website, WhatsApp) and the public routes
    describe their own paths."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vaksin session server",
            "version": "1",
            "description": (
                "USSD *119# gateways, the registration website, the WhatsApp webhook, QR "
                "ticket images, the operator API and the operator console (HTML pages) of "
                "the COVID-19 vaccination registration of health workers."
            ),
        },
        "paths": {**edge_paths, **public_paths, **operator_paths(public_description)},
        "components": {
            "schemas": components(),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "console": {"type": "apiKey", "in": "cookie", "name": "vx_console"},
            },
        },
    }
