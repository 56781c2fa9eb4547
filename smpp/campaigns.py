"""Campaign operations shared by the CLI and the operator API."""

from __future__ import annotations

import json
from typing import Any

from registration.recipients import FILTERABLE
from smpp.campaign_store import CampaignError, CampaignStore, StateConflict
from smpp.settings import BlastSettings
from smpp.templates import TemplateError, lint

# action -> (states it may start from, state it leads to)
TRANSITIONS = {
    "start": ({"draft"}, "running"),
    "pause": ({"running"}, "paused"),
    "resume": ({"paused"}, "running"),
    "cancel": ({"draft", "running", "paused"}, "cancelled"),
}


class NotFound(LookupError):
    pass


def parse_filters(items: list[Any] | dict[str, Any] | None) -> dict[str, list[str]]:
    """["regency=Bandung", "profession=bidan"] or {"regency": "Bandung"|[...]} -> lists.

    Each value is a non-empty string: an empty list, null or a number is refused, never
    read as "no filter" (that would blast the whole registry) nor stored as "None"."""
    out: dict[str, list[str]] = {}
    if isinstance(items, dict):
        pairs = [(str(k), v) for k, vs in items.items() for v in _values(str(k), vs)]
    else:
        pairs = []
        for item in items or []:
            if not isinstance(item, str):
                raise CampaignError(f"filter {item!r}: expected a string key=value")
            key, sep, value = item.partition("=")
            if not sep:
                raise CampaignError(f"filter {item!r}: expected key=value")
            pairs.append((key, value))
    for key, value in pairs:
        key = key.strip().lower()
        if key not in FILTERABLE:
            raise CampaignError(f"unknown filter {key!r}: use one of {', '.join(FILTERABLE)}")
        if not isinstance(value, str):
            raise CampaignError(f"filter {key}: {json.dumps(value)} is not a string")
        if not value.strip():
            raise CampaignError(f"filter {key}: empty value")
        out.setdefault(key, []).append(value.strip())
    return out


def _values(key: str, values: Any) -> list[Any]:
    if not isinstance(values, list):
        return [values]
    if not values:
        raise CampaignError(f"filter {key}: empty list (leave the filter out to reach everyone)")
    return values


async def create(
    store: CampaignStore,
    blast: BlastSettings,
    name: str,
    template: str,
    filters: dict[str, list[str]],
    only_unregistered: bool,
) -> dict[str, Any]:
    """Lint the template (errors raise CampaignError) and store a draft campaign."""
    try:
        report = lint(template, blast.keyword, blast.short_code)
    except TemplateError as exc:
        raise CampaignError(str(exc)) from exc
    await store.create(name, template, filters, only_unregistered, report.as_dict())
    progress = await store.progress(name)
    assert progress is not None
    return progress


async def transition(store: CampaignStore, name: str, action: str) -> dict[str, Any]:
    """One compare-and-set in Redis: of two concurrent actions (cancel and resume, say)
    each either applies to the state the other left or is refused (StateConflict)."""
    sources, target = TRANSITIONS[action]
    verdict, state = await store.change_state(name, sources, target)
    if verdict == "missing":
        raise NotFound(name)
    if verdict != "ok":
        raise StateConflict(f"cannot {action} a campaign that is {state}", state)
    progress = await store.progress(name)
    assert progress is not None
    return progress


async def progress(store: CampaignStore, name: str) -> dict[str, Any]:
    result = await store.progress(name)
    if result is None:
        raise NotFound(name)
    return result


async def listing(store: CampaignStore) -> list[dict[str, Any]]:
    out = []
    for name in await store.names():
        item = await store.progress(name)
        if item is not None:
            out.append(item)
    return out
