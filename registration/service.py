"""The registration facade both channels call. CONTRACT: signatures are fixed.

Channels (USSD dialogue, SMS dialogue, operator API) use only this class and the
dataclasses in `registration.models`; the modules behind it (registry import,
verification, screening, slots, tickets) are the domain's own business.
"""

from __future__ import annotations

from datetime import date

import redis.asyncio as aioredis

from registration.config import Config
from registration.models import (
    BookingResult,
    CheckInResult,
    Facility,
    HealthWorker,
    RegistrantStatus,
    ScreeningGroup,
    ScreeningResult,
    SlotAvailability,
    Ticket,
    Verification,
)


class Registry:
    """One per process; cheap to share between concurrent handlers."""

    @classmethod
    def from_config(cls, config: Config, redis: aioredis.Redis) -> Registry:
        raise NotImplementedError

    # --- who is listed ---------------------------------------------------------
    async def verify(self, phone: str, last6: str) -> Verification:
        """(phone, last 6 NIK digits) -> the registrant, or why not (counts attempts, locks)."""
        raise NotImplementedError

    async def worker(self, nik: str) -> HealthWorker | None:
        raise NotImplementedError

    # --- where -----------------------------------------------------------------
    async def facility(self, facility_id: str) -> Facility | None:
        raise NotImplementedError

    async def facility_choices(self, nik: str) -> list[Facility]:
        """The assigned facility first, then the others in the same regency (by name)."""
        raise NotImplementedError

    # --- screening -------------------------------------------------------------
    def screening_groups(self) -> list[ScreeningGroup]:
        """The yes/no screens in order (data from menus/screening.toml, cached)."""
        raise NotImplementedError

    async def record_screening(self, nik: str, answers: dict[str, bool]) -> ScreeningResult:
        """Evaluate answers {group_id: yes?}, store the outcome with the registration."""
        raise NotImplementedError

    # --- when ------------------------------------------------------------------
    async def available_slots(self, facility_id: str) -> list[SlotAvailability]:
        """Every (day, session) in the booking window, with seats left (full ones too)."""
        raise NotImplementedError

    async def book(
        self, nik: str, facility_id: str, day: date, session_id: str, *, channel: str = ""
    ) -> BookingResult:
        """Atomically take a seat and issue the ticket. Idempotent for the same slot."""
        raise NotImplementedError

    async def reschedule(
        self, nik: str, facility_id: str, day: date, session_id: str, *, channel: str = ""
    ) -> BookingResult:
        """Give the current seat back and take the new one (new ticket, old cancelled)."""
        raise NotImplementedError

    async def cancel(self, nik: str) -> Ticket | None:
        """Cancel the active booking, giving the seat back; returns the cancelled ticket."""
        raise NotImplementedError

    # --- tickets and status ----------------------------------------------------
    async def ticket(self, code: str) -> Ticket | None:
        raise NotImplementedError

    async def status_by_phone(self, phone: str) -> list[RegistrantStatus]:
        """Every registrant listed with this phone (a household may share one)."""
        raise NotImplementedError

    async def status_by_nik(self, nik: str) -> RegistrantStatus | None:
        raise NotImplementedError

    async def check_in(self, payload_or_code: str) -> CheckInResult:
        """Validate a scanned QR payload (signature, state) and mark the ticket used."""
        raise NotImplementedError

    def ticket_png(self, ticket: Ticket) -> bytes:
        raise NotImplementedError

    def ticket_svg(self, ticket: Ticket) -> bytes:
        raise NotImplementedError
