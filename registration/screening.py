"""Self-screening: the yes/no screens from `menus/screening.toml` and their evaluation.

The rules are data; this module only loads them (failing loudly on anything a
USSD screen could not show) and applies "the most severe outcome wins".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

from registration.models import ScreeningGroup, ScreeningOutcome, ScreeningResult

SUPPORTED_VERSIONS = (1,)  # the file's `version`: its format, not the guideline's date
LANGUAGES = ("id", "en")
MAX_PROMPT = 120  # + "\n1. Ya\n2. Tidak\n0. Kembali" must fit one 160-character screen
MAX_TEXT = 100
# Printable ASCII plus newline: a safe subset of GSM-7 (no {}[]~\^| which cost 2 septets).
_GSM_SAFE = re.compile(r"^[\x20-\x7e\n]*$")
_GSM_EXTENDED = set("{}[]~\\^|")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class ScreeningDataError(ValueError):
    """The screening file is malformed; the message says where."""


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


def parse_groups(data: Mapping[str, object], source: str = "screening") -> list[ScreeningGroup]:
    raw_groups = data.get("group")
    if not isinstance(raw_groups, list) or not raw_groups:
        raise ScreeningDataError(f"{source}: no [[group]] entries")
    groups: list[ScreeningGroup] = []
    for index, raw in enumerate(raw_groups, start=1):
        where = f"{source}: group {index}"
        if not isinstance(raw, Mapping):
            raise ScreeningDataError(f"{where}: not a table")
        group_id = raw.get("id")
        if not isinstance(group_id, str) or not _ID.match(group_id):
            raise ScreeningDataError(f"{where}: id must be lower_snake_case")
        where = f"{source}: group {group_id!r}"
        try:
            on_yes = ScreeningOutcome(raw.get("on_yes"))
        except ValueError:
            raise ScreeningDataError(f"{where}: on_yes must be deferred or not_eligible") from None
        if on_yes is ScreeningOutcome.ELIGIBLE:
            raise ScreeningDataError(f"{where}: on_yes must be deferred or not_eligible")
        defer_days = raw.get("defer_days", 0)
        if not isinstance(defer_days, int) or defer_days < 0:
            raise ScreeningDataError(f"{where}: defer_days must be a whole number >= 0")
        if on_yes is ScreeningOutcome.DEFERRED and defer_days < 1:
            raise ScreeningDataError(f"{where}: a deferral needs defer_days >= 1")
        groups.append(
            ScreeningGroup(
                group_id=group_id,
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


def load_groups(path: str | Path) -> list[ScreeningGroup]:
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
    return parse_groups(data, str(path))


def evaluate(
    groups: list[ScreeningGroup], answers: Mapping[str, bool], today: date
) -> ScreeningResult:
    """The most severe outcome among the "yes" screens; latest retry date among deferrals.

    A screen left unanswered counts as "yes" (not screened is not eligible to book):
    the dialogue always asks every screen, so a gap means something went wrong.
    """
    worst = ScreeningResult(ScreeningOutcome.ELIGIBLE)
    for group in groups:
        if answers.get(group.group_id, True) is False:
            continue
        if group.on_yes is ScreeningOutcome.NOT_ELIGIBLE:
            if worst.outcome is not ScreeningOutcome.NOT_ELIGIBLE:
                worst = ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, group.group_id)
            continue
        if worst.outcome is ScreeningOutcome.NOT_ELIGIBLE:
            continue
        retry = today + timedelta(days=group.defer_days)
        if worst.retry_on is None or retry > worst.retry_on:
            worst = ScreeningResult(ScreeningOutcome.DEFERRED, group.group_id, retry)
    return worst
