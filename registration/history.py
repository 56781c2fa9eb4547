"""The registrant's history lines (shown to operators with the status), one format for
every store. Times are UTC, to the second."""

from __future__ import annotations

from datetime import UTC, date, datetime

from registration.models import ScreeningResult
from registration.records import day_key

MAX_CHARS = 2000  # a registrant's history keeps its last 2000 characters


_last_stamp: tuple[int, str] = (-1, "")  # bookings come many a second: format each second once


def stamp(now: float) -> str:
    global _last_stamp
    second = int(now // 1)
    if _last_stamp[0] != second:
        text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        _last_stamp = (second, text)
    return _last_stamp[1]


def booked(now: float, code: str, facility_id: str, day: date, session_id: str, dose: int) -> str:
    return f"{stamp(now)} booked {code} {facility_id} {day_key(day)} {session_id} dose {dose}"


def cancelled(now: float, code: str) -> str:
    return f"{stamp(now)} cancelled {code}"


def checked_in(now: float, code: str) -> str:
    return f"{stamp(now)} checked in {code}"


def screened(now: float, result: ScreeningResult) -> str:
    """A screening that was not eligible: the next screening replaces the stored outcome,
    this line keeps it (for the help desk). The store adds " dose <n>": it decides the dose."""
    until = f" until {day_key(result.retry_on)}" if result.retry_on else ""
    return f"{stamp(now)} screened {result.outcome.value} {result.reason_id or '-'}{until}"


def appended(history: str, line: str) -> str:
    """The stored history text with ``line`` added (what the Redis scripts do, too)."""
    return (history + line + "\n")[-MAX_CHARS:]
