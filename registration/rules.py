"""The rules of one deployment, from configuration: who may try how often, when and
where one can book, what a ticket looks like, what the screening asks, who is in
this phase by age.

The numbers live in config.toml (`[registration]`, `[tickets]`, `[service]`) and the
screening questions and age bands in menus/screening.toml; this gathers them for
the Registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.config import Config
from registration.screening import ScreeningData, load_screening
from registration.settings import load_settings, parse_sessions
from registration.slots import Calendar
from registration.stores import Lockout
from registration.tickets import TicketSigner


@dataclass(frozen=True)
class Rules:
    lockout: Lockout  # wrong last-6 answers before a phone is locked, and for how long
    calendar: Calendar  # the booking window, closed weekdays, sessions, local dates
    signer: TicketSigner  # ticket codes and the signed QR payload
    screening: ScreeningData  # the self-screening (in order) and the age bands
    claim_timeout_seconds: int  # how long one booking may take
    check_in_tolerance_days: int  # a ticket checks in this many local days off its day
    facility_cache_seconds: float  # facility records are re-checked at least this often

    @classmethod
    def from_config(cls, config: Config, clock: Callable[[], float]) -> Rules:
        settings, tickets, offset = load_settings(config)
        calendar = Calendar(
            parse_sessions(settings.sessions),
            settings.booking_window_days,
            settings.closed_weekdays,
            offset,
            clock,
        )
        key = config.secret("tickets", "signing_key") or ""
        return cls(
            lockout=Lockout(settings.max_nik_attempts, settings.lockout_seconds),
            calendar=calendar,
            signer=TicketSigner(key, tickets.code_alphabet, tickets.code_length),
            screening=load_screening(config.resolve_path(settings.screening_file)),
            claim_timeout_seconds=settings.claim_timeout_seconds,
            check_in_tolerance_days=settings.check_in_tolerance_days,
            facility_cache_seconds=settings.facility_cache_seconds,
        )
