"""Typed settings of the registration domain: `[registration]`, `[tickets]`, service offset."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from registration.config import Config, ConfigError

_SESSION = re.compile(r"^([a-z0-9_]{1,16})=(\d\d:\d\d)-(\d\d:\d\d)$")


@dataclass
class RegistrationSettings:
    max_nik_attempts: int = 3
    lockout_seconds: int = 3600
    sessions: list[str] = field(default_factory=lambda: ["pagi=08:00-12:00", "siang=13:00-16:00"])
    booking_window_days: int = 14
    closed_weekdays: list[int] = field(default_factory=lambda: [7])
    screening_file: str = "menus/screening.toml"
    claim_timeout_seconds: int = 30
    facility_cache_seconds: float = 30.0


@dataclass
class TicketSettings:
    signing_key_file: str = ""
    dose_interval_days: int = 14
    code_alphabet: str = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    code_length: int = 8


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    label: str  # "08:00-12:00"


def parse_sessions(specs: list[str]) -> list[Session]:
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


def load_settings(config: Config) -> tuple[RegistrationSettings, TicketSettings, int]:
    reg = config.load("registration", RegistrationSettings)
    tickets = config.load("tickets", TicketSettings)
    offset = int(config.section("service").get("utc_offset_hours", 7))
    if len(set(tickets.code_alphabet)) < 10 or tickets.code_length < 6:
        raise ConfigError("[tickets] code_alphabet needs 10+ symbols and code_length >= 6")
    return reg, tickets, offset
