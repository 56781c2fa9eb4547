"""JSON Schemas (OpenAPI 3.1 = JSON Schema 2020-12) for what the HTTP API answers.

Answers made from the domain's dataclasses (tickets, statuses, check-in results)
get their schema from the dataclass itself, so the description cannot drift from
the code; the few plain dictionaries (statistics, campaign progress, errors) are
written out here.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime
from typing import Any

from registration.models import (
    CheckInResult,
    ImportReport,
    RegistrantStatus,
    Ticket,
)
from ussd_server.console.audit import AuditEntry

JsonSchema = dict[str, Any]


def _ref(name: str) -> JsonSchema:
    return {"$ref": f"#/components/schemas/{name}"}


def _type_schema(hint: Any, found: dict[str, JsonSchema]) -> JsonSchema:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        options = [_type_schema(a, found) for a in args if a is not type(None)]
        schema = options[0] if len(options) == 1 else {"anyOf": options}
        return {"anyOf": [schema, {"type": "null"}]} if type(None) in args else schema
    if origin in (list, tuple):
        if origin is tuple and len(args) > 1 and args[1] is not Ellipsis:
            items = [_type_schema(a, found) for a in args]
            return {"type": "array", "prefixItems": items, "minItems": len(items)}
        return {"type": "array", "items": _type_schema(args[0], found)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type_schema(args[1], found)}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"type": "string", "enum": [member.value for member in hint]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return dataclass_schema(hint, found)
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if hint in simple:
        return {"type": simple[hint]}
    if hint is datetime:
        return {"type": "string", "format": "date-time"}
    if hint is date:
        return {"type": "string", "format": "date"}
    raise TypeError(f"no schema for {hint!r}")


def dataclass_schema(cls: type, found: dict[str, JsonSchema]) -> JsonSchema:
    """A $ref to ``cls``'s schema, adding it (and what it contains) to ``found``."""
    name = cls.__name__
    if name not in found:
        found[name] = {}  # a placeholder: a dataclass may refer to itself
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)
        found[name] = {
            "type": "object",
            "properties": {f.name: _type_schema(hints[f.name], found) for f in fields},
            "required": [f.name for f in fields],
            "additionalProperties": False,
        }
    return _ref(name)


def _counts(names: tuple[str, ...]) -> JsonSchema:
    return {
        "type": "object",
        "properties": {n: {"type": "integer"} for n in names},
        "required": list(names),
        "additionalProperties": False,
    }


def _object(properties: dict[str, JsonSchema], optional: tuple[str, ...] = ()) -> JsonSchema:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


CAMPAIGN_STATES = ("draft", "running", "paused", "cancelled", "done")
STATUSES = ("screened", "eligible", "deferred", "not_eligible", "booked", "cancelled", "checked_in")
INTEGER, NUMBER, STRING, BOOLEAN = (
    {"type": "integer"},
    {"type": "number"},
    {"type": "string"},
    {"type": "boolean"},
)


def components() -> dict[str, JsonSchema]:
    """Every schema the document refers to, by name."""
    found: dict[str, JsonSchema] = {}
    for cls in (Ticket, CheckInResult, RegistrantStatus, ImportReport, AuditEntry):
        dataclass_schema(cls, found)
    found["Error"] = _object({"error": STRING})
    found["Health"] = _object({"status": {"enum": ["ok", "error"]}, "redis": STRING})
    found["Statistics"] = _object(
        {
            "workers_listed": INTEGER,
            "facilities": INTEGER,
            "totals": _counts(STATUSES),
            "by_regency": {"type": "object", "additionalProperties": _counts(STATUSES)},
        }
    )
    found["FacilityOverview"] = _object(
        {
            "facility_id": STRING,
            "name": STRING,
            "regency": STRING,
            "daily_capacity": INTEGER,
            "window_days": INTEGER,
            "capacity": INTEGER,
            "booked": INTEGER,
        }
    )
    found["CampaignProgress"] = campaign_progress()
    # A start/pause/resume/cancel refused: the state the campaign is in now.
    found["CampaignConflict"] = _object({"error": STRING, "state": {"enum": list(CAMPAIGN_STATES)}})
    return found


def campaign_progress() -> JsonSchema:
    counters = ("total", "submitted", "delivered", "failed", "expired", "opted_out")
    lint = {
        "type": "object",
        "properties": {
            "encoding": {"enum": ["gsm7", "ucs2"]},
            "parts": INTEGER,
            "characters": INTEGER,
            "warnings": {"type": "array", "items": STRING},
        },
    }
    # Submit-to-receipt latency percentiles in seconds (null until a final receipt).
    seconds = {"type": ["number", "null"]}
    receipt_seconds = _object({"count": INTEGER, "p50": seconds, "p90": seconds, "p99": seconds})
    return _object(
        {
            "name": STRING,
            "state": {"enum": list(CAMPAIGN_STATES)},
            **{c: INTEGER for c in counters},
            "queued": INTEGER,
            "retrying": INTEGER,
            "in_flight": INTEGER,
            "pending": INTEGER,
            "receipt_seconds": receipt_seconds,
            "senders": INTEGER,
            "materialized": BOOLEAN,
            "rate": NUMBER,
            "template": STRING,
            "filters": {"type": "object", "additionalProperties": {"type": "array"}},
            "only_unregistered": BOOLEAN,
            "lint": lint,
            "created": INTEGER,
            "started": INTEGER,
            "finished": INTEGER,
        },
        optional=("created", "started", "finished"),
    )
