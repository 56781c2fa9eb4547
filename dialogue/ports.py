"""What the dialogue needs from outside it: the domain calls it makes and the SMS outbox.

:class:`Registry` lists exactly the calls of ``registration.service.Registry``
the dialogue makes (``registration.memory`` provides one in memory for unit
tests); :class:`SmsOutbox` is what ``core.outbox.Outbox`` offers producers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from core.outbox import OutboundSms
from registration.models import (
    BookingResult,
    Facility,
    RegistrantStatus,
    ScreeningGroup,
    ScreeningReason,
    ScreeningResult,
    SlotAvailability,
    Ticket,
    Verification,
)

Clock = Callable[[], float]  # seconds since the epoch (time.time)


class Registry(Protocol):
    async def verify(self, phone: str, last6: str, *, attempt: str = "") -> Verification: ...

    async def facility(self, facility_id: str) -> Facility | None: ...

    async def facility_choices(self, nik: str) -> list[Facility]: ...

    def screening_groups(self) -> list[ScreeningGroup]: ...

    async def record_screening(self, nik: str, answers: dict[str, bool]) -> ScreeningResult: ...

    async def screening_hold(self, nik: str) -> ScreeningResult | None: ...

    def screening_reason(self, reason_id: str) -> ScreeningReason | None: ...

    async def available_slots(
        self, facility_id: str, *, nik: str = ""
    ) -> list[SlotAvailability]: ...

    # ``phone``: the phone the dialogue acts for; the Registry refuses (OTHER_PHONE, None)
    # once the registrant is listed with another. ``code``: the ticket the user was shown.
    async def book(
        self,
        nik: str,
        facility_id: str,
        day: date,
        session_id: str,
        *,
        channel: str = "",
        phone: str = "",
    ) -> BookingResult: ...

    async def reschedule(
        self,
        nik: str,
        facility_id: str,
        day: date,
        session_id: str,
        *,
        channel: str = "",
        phone: str = "",
    ) -> BookingResult: ...

    async def cancel(self, nik: str, *, code: str = "", phone: str = "") -> Ticket | None: ...

    async def status_by_nik(self, nik: str) -> RegistrantStatus | None: ...


class SmsOutbox(Protocol):
    async def enqueue(self, sms: OutboundSms) -> bool:
        """Queue once per ``sms.dedupe_key``; False if it was queued before."""
        ...

    async def enqueue_nowait(self, sms: OutboundSms) -> None:
        """Queue without waiting for the answer (the hop's session write follows it)."""
        ...
