"""Typed settings of the registration domain: `[registration]`, `[tickets]`, service offset."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.config import Config, ConfigError
from core.config_values import DAY_SECONDS, YEAR_SECONDS, setting
from core.settings import service_settings

_SESSION = re.compile(r"^([a-z0-9_]{1,16})=(\d\d:\d\d)-(\d\d:\d\d)$")


@dataclass(frozen=True)
class RegistrationSettings:
    max_nik_attempts: int = setting(low=1, high=100)
    lockout_seconds: int = setting(low=1, high=YEAR_SECONDS)
    sessions: tuple[str, ...]
    booking_window_days: int = setting(low=1, high=366)
    closed_weekdays: tuple[int, ...] = setting(low=1, high=7)  # ISO: 1 = Monday
    screening_file: str
    claim_timeout_seconds: int = setting(low=1, high=DAY_SECONDS)
    facility_cache_seconds: float = setting(high=DAY_SECONDS)
    check_in_tolerance_days: int = setting(high=366)
    import_wait_seconds: float = setting(high=3600)


@dataclass(frozen=True)
class TicketSettings:
    signing_key_file: str
    code_alphabet: str
    code_length: int = setting(low=6, high=32)


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    label: str  # "08:00-12:00"


def parse_sessions(specs: tuple[str, ...] | list[str]) -> list[Session]:
    """`["pagi=08:00-12:00", ...]` -> sessions; fails loudly on a bad entry."""
    sessions: list[Session] = []
    for spec in specs:
        match = _SESSION.match(spec.strip())
        if not match:
            raise ConfigError(f"[registration] sessions: bad entry {spec!r} (want id=HH:MM-HH:MM)")
        sessions.append(Session(match.group(1), f"{match.group(2)}-{match.group(3)}"))
    if not sessions or len({s.session_id for s in sessions}) != len(sessions):
        raise ConfigError("[registration] sessions: need at least one, ids unique")
    return sessions


def load_settings(config: Config) -> tuple[RegistrationSettings, TicketSettings, float]:
    reg = config.load("registration", RegistrationSettings)
    tickets = config.load("tickets", TicketSettings)
    offset = service_settings(config).utc_offset_hours
    if len(set(tickets.code_alphabet)) < 10:
        raise ConfigError("tickets.code_alphabet needs 10 or more different symbols")
    if len(set(reg.closed_weekdays)) >= 7:
        raise ConfigError("registration.closed_weekdays: at least one weekday must be open")
    return reg, tickets, offset


def session_labels(config: Config) -> dict[str, str]:
    """`[registration] sessions` as {"pagi": "08:00-12:00", ...} for screens and SMS."""
    specs = config.load("registration", RegistrationSettings).sessions
    return {s.session_id: s.label for s in parse_sessions(specs)}
