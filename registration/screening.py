"""Self-screening: the yes/no screens and age bands of `menus/screening.toml`, and the outcome.

The rules are data; this module only loads them (failing loudly on anything a
USSD screen could not show, or bands that leave an age uncovered) and decides
from the answers actually given (see :func:`evaluate`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from core.config import ConfigError
from registration.age import AgeBands
from registration.models import AgeBand, ScreeningGroup, ScreeningOutcome, ScreeningResult

SUPPORTED_VERSIONS = (2,)  # the file's `version`: its format (2: with age bands), not a date
LANGUAGES = ("id", "en")
MAX_PROMPT = 120  # + "\n1. Ya\n2. Tidak\n0. Kembali" must fit one 160-character screen
MAX_TEXT = 100
# Printable ASCII plus newline: a safe subset of GSM-7 (no {}[]~\^| which cost 2 septets).
_GSM_SAFE = re.compile(r"^[\x20-\x7e\n]*$")
_GSM_EXTENDED = set("{}[]~\\^|")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Reason ids the domain gives itself: no group or band may take them.
INCOMPLETE = "incomplete"  # a screening that was never completed (no "yes", a screen unanswered)
NOT_LISTED = "not_listed"
RESERVED_IDS = frozenset({INCOMPLETE, NOT_LISTED})


class ScreeningDataError(ConfigError):
    """The screening file is malformed; the message says where (a deploy's config error)."""


def _texts(raw: object, where: str, limit: int) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise ScreeningDataError(f"{where}: needs id and en texts")
    texts: dict[str, str] = {}
    for lang in LANGUAGES:
        text = raw.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise ScreeningDataError(f"{where}.{lang}: missing")
        if len(text) > limit:
            raise ScreeningDataError(f"{where}.{lang}: {len(text)} characters, limit {limit}")
        if not _GSM_SAFE.match(text) or _GSM_EXTENDED & set(text):
            raise ScreeningDataError(f"{where}.{lang}: use plain GSM-7 ASCII characters only")
        texts[lang] = text
    return texts


def _consequence(raw: Mapping[str, object], key: str, where: str) -> tuple[ScreeningOutcome, int]:
    """(outcome, defer_days) of a group's "yes" or of a band's ages."""
    try:
        outcome = ScreeningOutcome(raw.get(key))
    except ValueError:
        raise ScreeningDataError(f"{where}: {key} must be one of {_OUTCOMES[key]}") from None
    if outcome is ScreeningOutcome.ELIGIBLE and key == "on_yes":
        raise ScreeningDataError(f"{where}: {key} must be one of {_OUTCOMES[key]}")
    defer_days = raw.get("defer_days", 0)
    if type(defer_days) is not int or defer_days < 0:
        raise ScreeningDataError(f"{where}: defer_days must be a whole number >= 0")
    if outcome is ScreeningOutcome.DEFERRED and defer_days < 1:
        raise ScreeningDataError(f"{where}: a deferral needs defer_days >= 1")
    return outcome, defer_days


_OUTCOMES = {"on_yes": "deferred, not_eligible", "outcome": "eligible, deferred, not_eligible"}


def _entries(data: Mapping[str, object], name: str, source: str) -> list[Mapping[str, object]]:
    raw = data.get(name)
    if not isinstance(raw, list) or not raw:
        raise ScreeningDataError(f"{source}: no [[{name}]] entries")
    for index, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping):
            raise ScreeningDataError(f"{source}: {name} {index}: not a table")
        entry_id = entry.get("id")
        if not isinstance(entry_id, str) or not _ID.match(entry_id) or entry_id in RESERVED_IDS:
            raise ScreeningDataError(f"{source}: {name} {index}: id must be lower_snake_case")
    return raw


def parse_groups(data: Mapping[str, object], source: str = "screening") -> list[ScreeningGroup]:
    groups: list[ScreeningGroup] = []
    for raw in _entries(data, "group", source):
        where = f"{source}: group {raw['id']!r}"
        on_yes, defer_days = _consequence(raw, "on_yes", where)
        groups.append(
            ScreeningGroup(
                group_id=str(raw["id"]),
                prompt=_texts(raw.get("prompt"), f"{where}.prompt", MAX_PROMPT),
                on_yes=on_yes,
                defer_days=defer_days,
                reason=_texts(raw.get("reason"), f"{where}.reason", MAX_TEXT),
                advice=_texts(raw.get("advice"), f"{where}.advice", MAX_TEXT),
            )
        )
    ids = [g.group_id for g in groups]
    if len(set(ids)) != len(ids):
        raise ScreeningDataError(f"{source}: duplicate group ids")
    return groups


def _band(raw: Mapping[str, object], where: str, start: int) -> AgeBand:
    min_age, max_age = raw.get("min_age"), raw.get("max_age")
    if min_age != start:
        raise ScreeningDataError(f"{where}: min_age must be {start} (bands cover every age)")
    if max_age is not None and (type(max_age) is not int or max_age < start):
        raise ScreeningDataError(f"{where}: max_age must be a whole number >= min_age")
    outcome, defer_days = _consequence(raw, "outcome", where)
    interval = raw.get("dose_interval_days")
    if type(interval) is not int or not 1 <= interval <= 365:
        raise ScreeningDataError(f"{where}: dose_interval_days must be a whole number 1-365")
    eligible = outcome is ScreeningOutcome.ELIGIBLE
    texts = {
        key: {} if eligible and key not in raw else _texts(raw.get(key), f"{where}.{key}", MAX_TEXT)
        for key in ("reason", "advice")
    }
    return AgeBand(str(raw["id"]), start, max_age, outcome, defer_days, interval, *texts.values())


def parse_bands(data: Mapping[str, object], source: str = "screening") -> AgeBands:
    """The age bands, in order from age 0; the last one without max_age."""
    bands: list[AgeBand] = []
    for raw in _entries(data, "age_band", source):
        if bands and bands[-1].max_age is None:
            raise ScreeningDataError(f"{source}: only the last age_band may leave out max_age")
        start = 0 if not bands else (bands[-1].max_age or 0) + 1
        bands.append(_band(raw, f"{source}: age_band {raw['id']!r}", start))
    if bands[-1].max_age is not None:
        raise ScreeningDataError(f"{source}: the last age_band needs no max_age (all ages)")
    if not any(b.outcome is ScreeningOutcome.ELIGIBLE for b in bands):
        raise ScreeningDataError(f"{source}: no age_band is eligible: nobody could book")
    return AgeBands(bands)


@dataclass(frozen=True)
class ScreeningData:
    groups: list[ScreeningGroup]
    bands: AgeBands


def load_screening(path: str | Path) -> ScreeningData:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScreeningDataError(f"{path}: {exc}") from exc
    version = data.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        raise ScreeningDataError(
            f"{path}: version {version!r} is not supported (supported: {supported})"
        )
    groups, bands = parse_groups(data, str(path)), parse_bands(data, str(path))
    clash = {g.group_id for g in groups} & {b.band_id for b in bands.bands}
    if clash:
        raise ScreeningDataError(f"{path}: ids used by a group and an age_band: {sorted(clash)}")
    return ScreeningData(groups, bands)


def evaluate(
    groups: list[ScreeningGroup], answers: Mapping[str, bool], today: date
) -> ScreeningResult:
    """The outcome of the answers actually given.

    A "yes" decides: the dialogue stops asking at the first one, so that screen's
    outcome is the result; where several were answered "yes" (the help desk's form
    asks every screen) the most severe wins: not eligible over deferred, among
    deferrals the latest retry date. With no "yes", every screen must have been
    answered "no" to be eligible: a screening left incomplete is not a pass
    (not eligible, reason "incomplete").
    """
    worst: ScreeningResult | None = None
    for group in groups:
        if answers.get(group.group_id) is not True:
            continue
        if group.on_yes is ScreeningOutcome.NOT_ELIGIBLE:
            if worst is None or worst.outcome is not ScreeningOutcome.NOT_ELIGIBLE:
                worst = ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, group.group_id)
            continue
        if worst is not None and worst.outcome is ScreeningOutcome.NOT_ELIGIBLE:
            continue
        retry = today + timedelta(days=group.defer_days)
        if worst is None or worst.retry_on is None or retry > worst.retry_on:
            worst = ScreeningResult(ScreeningOutcome.DEFERRED, group.group_id, retry)
    if worst is not None:
        return worst
    if all(answers.get(group.group_id) is False for group in groups):
        return ScreeningResult(ScreeningOutcome.ELIGIBLE)
    return ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, INCOMPLETE)
