"""The registration domain's data: plain dataclasses, no Redis, no channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Facility:
    facility_id: str
    name: str
    regency: str
    address: str
    daily_capacity: int


@dataclass(frozen=True, slots=True)
class HealthWorker:
    nik: str
    full_name: str
    phone: str  # normalised 62...
    profession: str
    facility_id: str


class VerifyOutcome(StrEnum):
    OK = "ok"
    NOT_LISTED = "not_listed"  # the phone is not on the list of eligible health workers
    WRONG_DIGITS = "wrong_digits"  # listed phone, digits do not match; attempts_left says more
    LOCKED = "locked"  # too many wrong attempts; locked_until says when to try again


@dataclass(frozen=True, slots=True)
class Verification:
    outcome: VerifyOutcome
    worker: HealthWorker | None = None
    attempts_left: int = 0
    locked_seconds: int = 0  # remaining lock time when LOCKED


class ScreeningOutcome(StrEnum):
    ELIGIBLE = "eligible"
    DEFERRED = "deferred"
    NOT_ELIGIBLE = "not_eligible"


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    outcome: ScreeningOutcome
    # The rule that decided it (a question id from the screening data), or "" when eligible.
    reason_id: str = ""
    retry_on: date | None = None  # for DEFERRED


@dataclass(frozen=True, slots=True)
class SlotAvailability:
    facility_id: str
    day: date
    session_id: str  # e.g. "pagi"
    label: str  # e.g. "08:00-12:00"
    capacity: int
    booked: int

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.booked, 0)


# Doses in a full course: nobody is screened or booked for a dose beyond it (the Redis
# scripts say the same: "dose > 2").
FULL_COURSE = 2


class TicketState(StrEnum):
    ACTIVE = "active"
    USED = "used"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Ticket:
    code: str  # short, unambiguous, unique: read out over the phone
    nik: str
    facility_id: str
    day: date
    session_id: str
    dose: int
    state: TicketState
    payload: str  # the signed QR payload


class BookingOutcome(StrEnum):
    BOOKED = "booked"  # new booking, or the same slot confirmed again (same ticket)
    FULL = "full"  # no seat left in that session
    ALREADY_BOOKED = "already_booked"  # an active booking for another slot exists
    NOT_ELIGIBLE = "not_eligible"  # no eligible screening on record
    INVALID_SLOT = "invalid_slot"  # unknown facility/day/session, or outside the window
    TOO_EARLY = "too_early"  # a dose-2 day before the registrant's dose-2 due date
    COURSE_COMPLETE = "course_complete"  # every dose of the course given: nothing to book
    # Asked on behalf of a phone the registrant is no longer listed with (re-imported with
    # another phone since that phone's conversation verified the NIK).
    OTHER_PHONE = "other_phone"


@dataclass(frozen=True, slots=True)
class BookingResult:
    outcome: BookingOutcome
    ticket: Ticket | None = None  # set when BOOKED, and the existing one when ALREADY_BOOKED


class CheckInOutcome(StrEnum):
    VALID = "valid"  # checked in now
    ALREADY_USED = "already_used"
    CANCELLED = "cancelled"
    FORGED = "forged"  # bad signature or payload that does not match the ticket
    UNKNOWN = "unknown"  # no such ticket
    WRONG_DAY = "wrong_day"  # a ticket for another day (beyond the tolerance): not checked in
    WRONG_FACILITY = "wrong_facility"  # a ticket for another facility: not checked in
    TOO_EARLY = "too_early"  # a dose 2 before the registrant's dose-2 due date: not checked in


@dataclass(frozen=True, slots=True)
class CheckInResult:
    outcome: CheckInOutcome
    ticket: Ticket | None = None
    # When dose 2 is due: set when dose 1 was checked in, and with TOO_EARLY (come back then).
    dose2_due: date | None = None


@dataclass(frozen=True, slots=True)
class RegistrantStatus:
    worker: HealthWorker
    facility: Facility | None
    screening: ScreeningResult | None
    ticket: Ticket | None  # the active (or last used) ticket
    dose2_due: date | None = None
    history: list[str] = field(default_factory=list)
    # Why a screening cannot be taken now (an age outside this phase's bands, or a
    # deferral until its retry date), as the screening would answer; None: it can.
    hold: ScreeningResult | None = None


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows_ok: int
    rows_bad: int
    # (line number in the file, reason) for every bad row.
    errors: list[tuple[int, str]]


class ImportBusy(Exception):
    """Another import of the same kind held the registry all the time this one would wait
    (``[registration] import_wait_seconds``). For health workers nothing of this one was
    written (the wait comes first); a facility import waits per batch, so the batches
    before may be. ``started``: when the running one took the lock (Unix time), if known."""

    def __init__(self, what: str, started: float | None, waited: float, now: float) -> None:
        self.what, self.started, self.waited = what, started, waited
        since = ""
        if started is not None:
            at = datetime.fromtimestamp(started, UTC)
            since = f", started {at:%Y-%m-%d %H:%M:%S} UTC ({_duration(now - started)} ago)"
        super().__init__(
            f"another {what} import is running{since}; waited {waited:g} s for it "
            "([registration] import_wait_seconds): try again when it has ended"
        )


def _duration(seconds: float) -> str:
    whole = max(int(seconds), 0)
    if whole < 120:
        return f"{whole} s"
    if whole < 7200:
        return f"{whole // 60} min"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


@dataclass(frozen=True, slots=True)
class ScreeningGroup:
    """One yes/no screen of the self-screening: "does any of these apply to you?".

    Loaded from `menus/screening.toml`; texts are keyed by language ("id", "en").
    """

    group_id: str
    prompt: dict[str, str]  # the question(s) as shown, per language
    on_yes: ScreeningOutcome  # DEFERRED or NOT_ELIGIBLE
    defer_days: int  # for DEFERRED: when to try again
    reason: dict[str, str]  # short reason shown on the END screen, per language
    advice: dict[str, str]  # what to do next, per language


@dataclass(frozen=True, slots=True)
class AgeBand:
    """Ages ``min_age``-``max_age`` on the vaccination day (`[[age_band]]` in
    menus/screening.toml): whether they may be vaccinated in this phase, and the dose-2
    interval for them. Reason and advice (per language) say why not, and what next."""

    band_id: str
    min_age: int
    max_age: int | None  # None: no upper bound (the last band)
    outcome: ScreeningOutcome  # ELIGIBLE, or what a screening outside it gives
    defer_days: int  # DEFERRED: when to try again
    dose_interval_days: int  # dose 2 is due this long after dose 1 for these ages
    reason: dict[str, str]
    advice: dict[str, str]


@dataclass(frozen=True, slots=True)
class ScreeningReason:
    """What a screening outcome's ``reason_id`` means, per language: why, and what next."""

    reason: dict[str, str]
    advice: dict[str, str]
