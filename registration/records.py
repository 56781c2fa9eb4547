"""Redis hash <-> domain dataclass conversions, tolerant of missing fields.

Dates are stored as `YYYYMMDD` (also in key names); a hash written by an older
version or half-written by a crash reads as "absent" rather than raising.
"""

from __future__ import annotations

from datetime import date, datetime

from registration.models import (
    Facility,
    HealthWorker,
    ScreeningOutcome,
    ScreeningResult,
    Ticket,
    TicketState,
)


def day_key(day: date) -> str:
    # Formatted by hand: strftime costs several times more, and a hop lists many days.
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def worker_from(h: dict[str, str]) -> HealthWorker | None:
    if not h.get("nik"):
        return None
    return HealthWorker(
        nik=h["nik"],
        full_name=h.get("full_name", ""),
        phone=h.get("phone", ""),
        profession=h.get("profession", ""),
        facility_id=h.get("facility_id", ""),
    )


def facility_from(h: dict[str, str]) -> Facility | None:
    if not h.get("facility_id"):
        return None
    try:
        capacity = int(h.get("daily_capacity", "0"))
    except ValueError:
        capacity = 0
    return Facility(
        facility_id=h["facility_id"],
        name=h.get("name", ""),
        regency=h.get("regency", ""),
        address=h.get("address", ""),
        daily_capacity=capacity,
    )


def screening_from(h: dict[str, str]) -> ScreeningResult | None:
    try:
        outcome = ScreeningOutcome(h.get("outcome", ""))
    except ValueError:
        return None
    return ScreeningResult(outcome, h.get("reason_id", ""), parse_day(h.get("retry_on")))


def ticket_from(h: dict[str, str]) -> Ticket | None:
    """A ticket from a ticket hash, or from a registrant's booking hash (same field names)."""
    day = parse_day(h.get("day"))
    if not h.get("code") or day is None:
        return None
    try:
        state = TicketState(h.get("state", ""))
        dose = int(h.get("dose", "1"))
    except ValueError:
        return None
    return Ticket(
        code=h["code"],
        nik=h.get("nik", ""),
        facility_id=h.get("fid", ""),
        day=day,
        session_id=h.get("session", ""),
        dose=dose,
        state=state,
        payload=h.get("payload", ""),
    )
