"""What the registration domain needs of storage: one small interface per kind of data.

The rules live in the domain modules (verification, slots, booking, checkin, screening,
stats); these interfaces only keep and fetch data. The few state changes that must be
atomic happen inside one call, with the same meaning in every implementation (the contract
tests in tests/test_registration_contract_*.py run against both):

- ``max_attempts`` wrong answers within ``seconds`` lock the phone, whatever matched
  in between (a household's right answer clears nothing); digits that are not six
  decimal digits never match and are not counted;
- a screening replaces the previous one, except a deferral still running (kept); none
  is taken while a booking is active or after the last dose of the course;
- a registrant holds at most one active booking (its dose: doses done + 1, a reschedule
  keeps its dose) with an eligible screening for that dose; a dose 2 not before its due
  date; no third dose; changed for a phone only if still listed with it; a cancel of
  ``code`` cancels that ticket only;
- a seat is taken only while the session has capacity left, at most once per holder;
- a ticket is checked in once; a dose 2 not before its due date.

Implementations: Redis (``registration.redis_*``, production: Lua scripts on the
lean pipelined client) and memory (``registration.memory``: fast unit tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from registration.models import (
    BookingOutcome,
    Facility,
    HealthWorker,
    ScreeningResult,
    Ticket,
    VerifyOutcome,
)

# Import rows, validated: (nik, full_name, phone 62..., profession, facility_id) and
# (facility_id, name, regency, address, daily_capacity). Tuples: a million are made.
WorkerRow = tuple[str, str, str, str, str]
FacilityRow = tuple[str, str, str, str, int]
# Counter changes, (status, delta): see registration.stats for the statuses.
Moves = tuple[tuple[str, int], ...]


# --- registrants and verification -------------------------------------------------
@dataclass(frozen=True, slots=True)
class Lockout:
    """The ``max_attempts``-th wrong answer within ``seconds`` locks the phone that long."""

    max_attempts: int
    seconds: int


@dataclass(frozen=True, slots=True)
class RegistrantRecord:
    """A listed registrant as stored: the worker record, latest screening, booking, history."""

    worker: HealthWorker
    screening: ScreeningResult | None
    ticket: Ticket | None  # the booking (active, used or cancelled)
    dose2_due: date | None
    history: list[str]


@dataclass(frozen=True, slots=True)
class VerifyReply:
    outcome: VerifyOutcome
    wrong_attempts: int = 0  # WRONG_DIGITS: wrong answers counted in the current window
    locked_ms: int = 0  # LOCKED: lock time left; 0 or less when the lock has no expiry
    locked_now: bool = False  # LOCKED by this answer (the lockout's last wrong answer)
    worker: HealthWorker | None = None  # OK: the registrant the digits matched
    # OK: their whole record, read along with the verification; parsed only when wanted
    # (a verify alone stays cheap; the status right after it costs no round trip).
    record: Callable[[], RegistrantRecord] | None = None


@dataclass(frozen=True, slots=True)
class ScreeningEntry:
    result: ScreeningResult
    answers: dict[str, bool]
    at: str  # ISO 8601 UTC
    history_line: str = ""  # into the history if stored, unless the same outcome was stored


@dataclass(frozen=True, slots=True)
class ScreeningStored:
    previous: str  # the outcome of the screening this one replaced, "" for a first one
    facility_id: str  # the registrant's assigned facility (for the regional counters)
    kept: ScreeningResult | None = None  # a running deferral kept instead (nothing stored)
    dose2_due: date | None = None  # read along: the times offered next need it
    booked: bool = False  # an active booking holds this dose: nothing was stored
    complete: bool = False  # every dose of the course given: nothing was stored


@dataclass(frozen=True, slots=True)
class ListedWorker:
    """One listed health worker as a blast sees it."""

    nik: str
    full_name: str
    phone: str
    profession: str
    facility_id: str
    booking_state: str  # "active", "used", "cancelled" or "" (asked for only when needed)
    doses_done: int = 0  # doses checked in so far (asked for along with the booking)


class RegistrantStore(Protocol):
    async def verify(
        self, phone: str, digits: str, lockout: Lockout, answer_id: str = ""
    ) -> VerifyReply:
        """The NIK of ``phone`` ending in ``digits`` (the smallest); wrong answers counted per
        phone (once per ``answer_id``), lockout (not checked then); on OK, the record too."""

    async def worker(self, nik: str) -> HealthWorker | None: ...

    async def record(self, nik: str) -> RegistrantRecord | None:
        """Everything about a listed registrant in one read; None when not listed."""

    async def niks_by_phone(self, phone: str) -> list[str]:
        """NIKs listed with this normalised phone (a household may share one), sorted."""

    async def facility_of(self, nik: str) -> tuple[str, str | None]:
        """(assigned facility id or "", facilities' import version): one read checks the cache."""

    async def record_screening(
        self, nik: str, entry: ScreeningEntry, today: date
    ) -> ScreeningStored | None:
        """Replace the registrant's screening (for dose = doses done + 1), unless a booking is
        active (``booked``), every dose is given (``complete``) or a deferral with a retry date
        after ``today`` is stored (``kept``); None if not listed."""

    def listed(self, *, with_booking: bool, batch: int) -> AsyncIterator[list[ListedWorker]]:
        """Every listed NIK, a batch at a time, in no particular order (a NIK whose record is
        gone, left behind by an interrupted import, comes with empty fields)."""


# --- facilities and seats ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Seat:
    facility_id: str
    day: date
    session_id: str
    capacity: int  # of this session on this day


class FacilityStore(Protocol):
    async def version(self) -> str | None:
        """Changes with every facility import (None before the first)."""

    async def load(self) -> tuple[str | None, list[Facility]]:
        """The import version and every facility record."""

    async def seats_booked(self, facility_id: str, days: Sequence[date]) -> list[dict[str, int]]:
        """Per day of ``days``: session id -> seats taken (sessions nobody booked may lack)."""

    async def booked_totals(self, facility_ids: Sequence[str], days: Sequence[date]) -> list[int]:
        """Per facility: seats taken over ``days`` (the operator's overview)."""

    async def take_seat(self, seat: Seat, holder: str) -> bool:
        """Take a seat for ``holder``: True if taken now or held already, False when full."""

    async def release_seat(self, facility_id: str, day: date, holder: str) -> bool:
        """Give back ``holder``'s seat: True if one was held."""


# --- bookings and tickets ----------------------------------------------------------
class TicketIssuer(Protocol):
    """Codes and signed payloads (registration.tickets.TicketSigner)."""

    def new_code(self) -> str: ...
    def payload(
        self, code: str, facility_id: str, day: date, session_id: str, dose: int
    ) -> str: ...


# A booking in flight keeps other bookings of the same person waiting until its claim
# expires (``claim_seconds``) and this grace period (clock skew between processes) passed.
CLAIM_GRACE_SECONDS = 10


@dataclass(frozen=True, slots=True)
class BookingRequest:
    nik: str
    seat: Seat
    reschedule: bool  # replace the active booking (else an active one is ALREADY_BOOKED)
    claim_seconds: int  # how long a booking may take before another may take over
    phone: str = ""  # for this phone: OTHER_PHONE unless it is the registrant's ("": any)


@dataclass(frozen=True, slots=True)
class BookAttempt:
    """BOOKED (new, or the same slot again), FULL, ALREADY_BOOKED, NOT_ELIGIBLE, TOO_EARLY
    (a dose-2 day before its due date), OTHER_PHONE; or ``outcome`` None: another booking
    of this person is in flight, try again shortly."""

    outcome: BookingOutcome | None
    ticket: Ticket | None = None  # BOOKED: the ticket; ALREADY_BOOKED: the existing one
    issued: bool = False  # BOOKED by this call (False: the same slot was booked already)
    replaced_facility: str = ""  # a reschedule: the facility of the booking it replaced


class CheckInMark(StrEnum):
    OK = "ok"  # checked in now
    USED = "used"  # checked in before
    CANCELLED = "cancelled"  # not the registrant's active booking (cancelled or replaced)
    TOO_EARLY = "too_early"  # a dose 2 before the registrant's dose-2 due date: not checked in


@dataclass(frozen=True, slots=True)
class CheckInReply:
    mark: CheckInMark
    dose2_due: date | None = None  # TOO_EARLY: the registrant's dose-2 due date


class BookingStore(Protocol):
    async def book(self, request: BookingRequest, issuer: TicketIssuer) -> BookAttempt:
        """Take the seat and issue a ticket under a fresh unique code, all or nothing."""

    async def cancel(self, nik: str, code: str = "", phone: str = "") -> Ticket | None:
        """Cancel the active booking and give its seat back; the cancelled ticket, or None."""

    async def current(self, nik: str) -> Ticket | None:
        """The registrant's booking (any state), or None."""

    async def ticket(self, code: str) -> Ticket | None:
        """The ticket, its state as the registrant's booking says (the truth)."""

    async def check_in(self, ticket: Ticket, dose2_due: date, today: date) -> CheckInReply:
        """Mark the ticket used; on dose 1 the registrant's second dose is due ``dose2_due``.
        A dose 2 whose stored due date is after ``today`` is not checked in (TOO_EARLY)."""

    async def repair(self) -> int:
        """Give back seats held by interrupted bookings/cancellations; how many."""


# --- statistics --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CounterSnapshot:
    workers_listed: int
    facilities: int
    counters: dict[tuple[str, str], int]  # (regency or "" for all, status) -> count


class StatsStore(Protocol):
    async def count(self, regency: str, moves: Moves) -> None:
        """Move the counters, overall and for ``regency`` (best effort, not waited for)."""

    async def read(self) -> CounterSnapshot:
        """Every counter, including the moves this process made so far."""


# --- the registry import -----------------------------------------------------------
class WorkerSink(Protocol):
    async def send(self, batch: list[WorkerRow]) -> None:
        """Write a batch (a re-listed worker leaves its old phone and facility indexes).
        May return before it is written; the next send or the end waits for it."""


class RegistryWriter(Protocol):
    async def facility_ids(self) -> set[str]: ...

    async def write_facilities(self, rows: Sequence[FacilityRow]) -> None: ...

    async def facilities_imported(self) -> None:
        """Bump the facilities' import version: every process reloads its cache."""

    def worker_batches(self) -> AbstractAsyncContextManager[WorkerSink]:
        """Where worker batches go; leaving the block waits for the last one."""

    async def workers_imported(self) -> None: ...


# --- one backend -------------------------------------------------------------------
class Backend(Protocol):
    # What the stores raise while their backing service is away (the repair loop retries).
    transient_errors: tuple[type[Exception], ...]

    async def warm_up(self) -> None:
        """Connect and prepare (e.g. load scripts) before the first caller."""

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Stores:
    """One backend's stores, as the Registry uses them."""

    registrants: RegistrantStore
    facilities: FacilityStore
    bookings: BookingStore
    stats: StatsStore
    writer: RegistryWriter
    backend: Backend
