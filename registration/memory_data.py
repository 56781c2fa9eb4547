"""What the memory stores keep: plain dicts, one :class:`MemoryData` shared by them all.

Every store method finishes without awaiting anything, so under asyncio each call is
atomic, as a Lua script is in Redis.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from registration.models import Facility, HealthWorker, ScreeningResult, Ticket


@dataclass
class StoredScreening:
    result: ScreeningResult
    answers: dict[str, bool]
    at: str
    dose: int  # the dose it was taken for (doses done + 1 at the time)


@dataclass
class StoredBooking:
    ticket: Ticket  # the booking; its state is the truth
    holder: str  # who holds its seat ("<nik>|<n>")


@dataclass
class MemoryData:
    # The registry (written by the import).
    workers: dict[str, HealthWorker] = field(default_factory=dict)
    phones: dict[str, set[str]] = field(default_factory=dict)  # phone -> NIKs
    facility_workers: dict[str, set[str]] = field(default_factory=dict)  # facility -> NIKs
    facilities: dict[str, Facility] = field(default_factory=dict)
    facilities_version: int = 0  # 0: never imported
    workers_version: int = 0
    # Verification: phone -> its wrong answers (answer id -> time); phone -> locked until.
    wrong: dict[str, dict[str, float]] = field(default_factory=dict)
    locked: dict[str, float] = field(default_factory=dict)
    # Seats per (facility, day): session -> taken, and holder -> session.
    taken: dict[tuple[str, date], dict[str, int]] = field(default_factory=dict)
    holders: dict[tuple[str, date], dict[str, str]] = field(default_factory=dict)
    # Registrants.
    screenings: dict[str, StoredScreening] = field(default_factory=dict)
    bookings: dict[str, StoredBooking] = field(default_factory=dict)
    doses_done: dict[str, int] = field(default_factory=dict)
    dose2_due: dict[str, date] = field(default_factory=dict)
    history: dict[str, str] = field(default_factory=dict)  # lines, as Redis keeps them
    tickets: dict[str, Ticket] = field(default_factory=dict)
    # Statistics: (regency or "" for all, status) -> count.
    counters: Counter[tuple[str, str]] = field(default_factory=Counter)
