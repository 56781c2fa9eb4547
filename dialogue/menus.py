"""Loading and validating the dialogue data in `menus/*.toml`.

The TOML is turned once, at start-up, into frozen objects the engine walks
without further parsing; anything dangling (a `next` naming no screen, a text
missing a language, an unknown action or an outcome nobody handles) raises
:class:`MenuError` naming the place, so a bad edit fails the deploy, not a call.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import ConfigError

# Versions of the menu file's format this engine runs (`version = ...` at its top).
SUPPORTED_VERSIONS = (1,)
LANGUAGES = ("id", "en")
SCREEN_TYPES = ("menu", "yesno", "input", "list", "screening", "action", "end")
LIST_SOURCES = ("facilities", "slots")
REQUIRED_TEXTS = (
    *("invalid", "back", "more", "yes", "no", "sms_option", "sms_yesno", "sms_back"),
    *("expired", "ended", "unknown_service", "busy", "weekdays", "no_reason", "ticket_sms"),
    *("ticket_active", "ticket_used", "ticket_cancelled"),
)


class MenuError(ConfigError):
    """The dialogue data is inconsistent; the message says where (a deploy's config error)."""


Text = dict[str, str]  # language -> text (a str.format template)


@dataclass(frozen=True, slots=True)
class Step:
    """Where an answer leads: straight to `next`, or through `action` routed by outcome."""

    next: str = ""
    action: str = ""
    arg: str = ""
    on: dict[str, str] = field(default_factory=dict)
    set: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Option:
    label: Text
    step: Step


@dataclass(frozen=True, slots=True)
class Screen:
    id: str
    type: str
    text: Text
    options: tuple[Option, ...] = ()
    yes: Step | None = None
    no: Step | None = None
    pattern: re.Pattern[str] | None = None
    error: Text | None = None
    step: Step | None = None  # input/list/screening/action: the action and its routes
    source: str = ""
    empty: str = ""  # list: where to go when the source is empty
    # What an SMS shows instead of `text`, where SMS can carry more (links to the QR
    # image and the video, which do not fit a 160-character USSD screen). Every long-form
    # layout shows it: SMS, WhatsApp and the website.
    sms_text: Text | None = None
    # What SMS and WhatsApp alone show (before `sms_text`): there the user sends keywords,
    # and "menu 3" or "*119#" is no way on from where they are.
    message_text: Text | None = None


@dataclass(frozen=True, slots=True)
class Keyword:
    """Where a dialogue starts: an SMS keyword's screen, or a channel's entry screen."""

    screen: str
    set: dict[str, str]
    # A keyword's language (required there): it becomes the conversation's and the phone's.
    lang: str = ""


@dataclass(frozen=True, slots=True)
class Menus:
    screens: dict[str, Screen]
    texts: dict[str, Text]
    keywords: dict[str, Keyword]
    start: str
    resume: str
    # A channel's own first screen instead of `start` (`[entries] web = {screen = ...}`).
    entries: dict[str, Keyword] = field(default_factory=dict)

    def text(self, key: str, lang: str) -> str:
        return self.texts[key][lang]


class _Vars(dict):
    """Format variables: an unknown {name} renders empty instead of raising."""

    def __missing__(self, key: str) -> str:
        return ""


def fill(template: str, values: Mapping[str, str]) -> str:
    """A menu text with its {variables} filled in (unknown ones empty)."""
    if "{" not in template:
        return template
    return template.format_map(_Vars(values))


def _text(value: Any, where: str) -> Text:
    if not isinstance(value, Mapping):
        raise MenuError(f"{where}: expected a table with {' and '.join(LANGUAGES)}")
    out: Text = {}
    for lang in LANGUAGES:
        item = value.get(lang)
        if not isinstance(item, str) or not item.strip():
            raise MenuError(f"{where}: missing text for language {lang!r}")
        out[lang] = item
    return out


def _strs(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise MenuError(f"{where}: expected a table of strings")
    return dict(value)


def _step(value: Any, where: str) -> Step:
    if not isinstance(value, Mapping):
        raise MenuError(f"{where}: expected a table with next or action")
    step = Step(
        next=str(value.get("next", "")),
        action=str(value.get("action", "")),
        arg=str(value.get("arg", "")),
        on=_strs(value.get("on"), f"{where}.on"),
        set=_strs(value.get("set"), f"{where}.set"),
    )
    if not step.next and not step.action:
        raise MenuError(f"{where}: needs `next` or `action`")
    return step


def _screen(sid: str, raw: Any) -> Screen:
    where = f"screens.{sid}"
    if not isinstance(raw, Mapping):
        raise MenuError(f"{where}: expected a table")
    kind = raw.get("type")
    if kind not in SCREEN_TYPES:
        raise MenuError(f"{where}: type must be one of {', '.join(SCREEN_TYPES)}")
    text = _text(raw.get("text"), f"{where}.text") if kind != "action" else {"id": "", "en": ""}
    kwargs: dict[str, Any] = {}
    if kind == "menu":
        options = raw.get("options")
        if not isinstance(options, list) or not options:
            raise MenuError(f"{where}: a menu needs options")
        kwargs["options"] = tuple(
            Option(_text(o.get("label"), f"{where}.options[{i}].label"), _step(o, f"{where}[{i}]"))
            for i, o in enumerate(options)
        )
    elif kind == "yesno":
        kwargs["yes"] = _step(raw.get("yes"), f"{where}.yes")
        kwargs["no"] = _step(raw.get("no"), f"{where}.no")
    elif kind in ("input", "list", "screening", "action"):
        kwargs["step"] = _step(raw, where)
    if kind == "input":
        try:
            kwargs["pattern"] = re.compile(str(raw.get("pattern", ".+")))
        except re.error as exc:
            raise MenuError(f"{where}.pattern: {exc}") from None
        kwargs["error"] = _text(raw.get("error"), f"{where}.error")
    if kind == "list":
        if raw.get("source") not in LIST_SOURCES:
            raise MenuError(f"{where}.source must be one of {', '.join(LIST_SOURCES)}")
        kwargs["source"] = raw["source"]
        kwargs["empty"] = str(raw.get("empty", ""))
        if not kwargs["empty"]:
            raise MenuError(f"{where}: a list needs `empty` (where to go when nothing is left)")
    for name in ("sms_text", "message_text"):
        if name in raw:
            kwargs[name] = _text(raw[name], f"{where}.{name}")
    return Screen(id=sid, type=kind, text=text, **kwargs)


def _check_step(step: Step, where: str, screens: Mapping[str, Screen], actions: Mapping) -> None:
    targets = [step.next] if step.next else []
    if step.action:
        if step.action not in actions:
            raise MenuError(f"{where}: unknown action {step.action!r}")
        outcomes = actions[step.action].outcomes
        missing = [o for o in sorted(outcomes) if o not in step.on and not step.next]
        if missing:
            raise MenuError(f"{where}: action {step.action} outcome(s) not routed: {missing}")
        unknown = set(step.on) - set(outcomes)
        if unknown:
            raise MenuError(f"{where}: {step.action} never returns {sorted(unknown)}")
        targets += list(step.on.values())
    for target in targets:
        if target not in screens:
            raise MenuError(f"{where}: next screen {target!r} does not exist")


def validate(menus: Menus, actions: Mapping[str, Any]) -> None:
    """Fail loudly on anything dangling; `actions` maps name -> object with `.outcomes`."""
    for name in (menus.start, menus.resume):
        if name not in menus.screens:
            raise MenuError(f"start/resume screen {name!r} does not exist")
    for key in REQUIRED_TEXTS:
        if key not in menus.texts:
            raise MenuError(f"texts.{key} is missing")
    for sid, screen in menus.screens.items():
        steps: list[tuple[Step, str]] = [
            (o.step, f"screens.{sid}.options[{i}]") for i, o in enumerate(screen.options)
        ]
        for name in ("yes", "no", "step"):
            step = getattr(screen, name)
            if step is not None:
                steps.append((step, f"screens.{sid}.{name}"))
        for step, where in steps:
            _check_step(step, where, menus.screens, actions)
        if screen.type == "list" and screen.empty not in menus.screens:
            raise MenuError(f"screens.{sid}.empty: screen {screen.empty!r} does not exist")
        if screen.type in ("input", "list", "screening", "action") and not screen.step.action:
            raise MenuError(f"screens.{sid}: a {screen.type} screen needs an action")
    for where, table in (("keywords", menus.keywords), ("entries", menus.entries)):
        for word, kw in table.items():
            if kw.screen not in menus.screens:
                raise MenuError(f"{where}.{word}: screen {kw.screen!r} does not exist")


def _starts(table: Any, where: str) -> dict[str, Keyword]:
    """`[keywords]` or `[entries]`: name -> {screen = ..., set = {...}}; a keyword also
    names its language (`lang = "en"`) and is letters only (``flow.keyword`` keeps only
    those of a message: "BAHASA INGGRIS" could never match)."""
    if not isinstance(table, Mapping):
        raise MenuError(f"{where}: expected a table")
    starts: dict[str, Keyword] = {}
    for name, value in table.items():
        if not isinstance(value, Mapping) or "screen" not in value:
            raise MenuError(f"{where}.{name}: expected {{screen = ...}}")
        lang = value.get("lang", "")
        if where == "keywords":
            if not re.fullmatch("[A-Z]+", name.upper()):
                raise MenuError(f"{where}.{name}: a keyword is letters A-Z only")
            if lang not in LANGUAGES:
                raise MenuError(f"{where}.{name}: lang must be one of {', '.join(LANGUAGES)}")
        elif lang:
            raise MenuError(f"{where}.{name}: only keywords have a lang")
        screen, sets = str(value["screen"]), _strs(value.get("set"), f"{where}.{name}")
        starts[name] = Keyword(screen, sets, lang)
    return starts


def _check_version(version: Any, path: str | Path) -> None:
    if type(version) is int and version in SUPPORTED_VERSIONS:
        return
    supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
    found = "no `version`" if version is None else f"version {version!r}"
    raise MenuError(f"{path}: {found} is not supported; supported version(s): {supported}")


def load_menus(path: str | Path, actions: Mapping[str, Any]) -> Menus:
    """Parse and validate the dialogue file; raises MenuError on any inconsistency."""
    try:
        with Path(path).open("rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MenuError(f"{path}: {exc}") from None
    _check_version(raw.get("version"), path)
    screens_raw = raw.get("screens")
    if not isinstance(screens_raw, Mapping) or not screens_raw:
        raise MenuError(f"{path}: no [screens]")
    texts_raw = raw.get("texts", {})
    keywords = _starts(raw.get("keywords", {}), "keywords")
    menus = Menus(
        screens={sid: _screen(sid, s) for sid, s in screens_raw.items()},
        texts={k: _text(v, f"texts.{k}") for k, v in texts_raw.items()},
        keywords={word.upper(): kw for word, kw in keywords.items()},
        start=str(raw.get("start", "main")),
        resume=str(raw.get("resume", "resume")),
        entries=_starts(raw.get("entries", {}), "entries"),
    )
    validate(menus, actions)
    return menus
