"""The registration facade every channel calls. CONTRACT: existing signatures are fixed.

Channels (USSD, SMS, web, help desk, operator API) use only this class and the
dataclasses in `registration.models`; behind it are the rules (verification,
eligibility, slots, booking, checkin, screening, stats) over the stores of
:mod:`registration.stores`: Redis (:meth:`Registry.from_config`, one lean pipelined
connection on the hot path; round trips in docs/registration.md) or memory
(``registration.memory.memory_registry``, unit tests).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from core import metrics
from core.config import Config
from core.settings import redis_settings
from registration import importer
from registration.booking import Booker, repair_forever
from registration.checkin import CheckIn
from registration.eligibility import Eligibility
from registration.facilities import FacilityDirectory
from registration.keys import RegistryKeys
from registration.models import (
    BookingOutcome,
    BookingResult,
    CheckInResult,
    Facility,
    HealthWorker,
    ImportReport,
    RegistrantStatus,
    ScreeningGroup,
    ScreeningReason,
    ScreeningResult,
    SlotAvailability,
    Ticket,
    Verification,
)
from registration.offer import SlotOffer
from registration.redis_stores import redis_stores
from registration.registrant_status import Statuses
from registration.rules import Rules
from registration.screening_record import Screener
from registration.service_views import OperatorViews
from registration.settings import RegistrationSettings
from registration.stores import Stores
from registration.tickets import qr_png, qr_svg
from registration.verification import Verifier

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from core.redis_lean import FastRedis

log = logging.getLogger(__name__)


class Registry(OperatorViews):
    """One per process, shared by concurrent handlers (read-only views: service_views)."""

    def __init__(
        self,
        stores: Stores,
        rules: Rules,
        *,
        clock: Callable[[], float] = time.time,
        fast: FastRedis | None = None,
    ) -> None:
        self._stores, self._fast = stores, fast
        self._calendar, self._signer = rules.calendar, rules.signer
        self._directory = directory = FacilityDirectory(
            stores.facilities, rules.facility_cache_seconds
        )
        self._verifier = Verifier(stores.registrants, rules.lockout)
        self._eligibility = eligibility = Eligibility(rules.screening, rules.calendar)
        self._statuses = Statuses(stores.registrants, directory, eligibility)  # + verify's reads
        self._offer = SlotOffer(
            stores.facilities, stores.registrants, directory, rules.calendar, eligibility
        )
        self._screener = Screener(
            rules.screening.groups, stores, directory, eligibility, self._offer.hint, clock
        )
        self._booker = Booker(stores.bookings, stores.stats, directory, rules, eligibility)
        self._checkin = CheckIn(stores.bookings, stores.stats, directory, rules, eligibility)

    @classmethod
    def from_config(
        cls,
        config: Config,
        redis: aioredis.Redis,
        *,
        clock: Callable[[], float] = time.time,
        fast: FastRedis | None = None,
    ) -> Registry:
        """On Redis: ``fast`` is the process's shared lean connection (the caller closes
        it), or None for one of the Registry's own (closed by :meth:`aclose`)."""
        settings = redis_settings(config)
        keys = RegistryKeys(settings.key_prefix)
        wait = config.load("registration", RegistrationSettings).import_wait_seconds
        stores, lean = redis_stores(redis, keys, clock, fast, settings.wait_connections, wait)
        return cls(stores, Rules.from_config(config, clock), clock=clock, fast=lean)

    @property
    def fast(self) -> FastRedis:
        """The lean connection; the dialogue engine shares it for session reads/writes."""
        if self._fast is None:
            raise LookupError("this Registry runs on memory stores: it has no Redis connection")
        return self._fast

    async def aclose(self) -> None:
        """Close the connections the stores opened themselves."""
        await self._stores.backend.aclose()

    async def warm_up(self) -> None:
        """Connect, load every Lua script and the facility cache (call once at start-up)."""
        await self._stores.backend.warm_up()
        await self._directory.ensure(check=True)

    # --- the registry itself -----------------------------------------------------
    async def import_facilities(
        self, source: importer.Source, progress: importer.Progress | None = None
    ) -> ImportReport:
        """Load facilities from CSV (idempotent; bad rows reported with line numbers)."""
        return await importer.import_facilities(self._stores.writer, source, progress)

    async def import_health_workers(
        self, source: importer.Source, progress: importer.Progress | None = None
    ) -> ImportReport:
        """Load health workers from CSV (facilities first; idempotent)."""
        return await importer.import_health_workers(self._stores.writer, source, progress)

    # --- who is listed ---------------------------------------------------------
    async def verify(self, phone: str, last6: str, *, attempt: str = "") -> Verification:
        """(phone, last 6 NIK digits) -> the registrant, or why not (counts attempts, locks).
        ``attempt`` names the user action: the same answer to it counts once, however often
        it arrives (a double tap, a retransmitted hop); "" counts every call."""
        result, record = await self._verifier.verify(phone, last6, attempt)
        metrics.VERIFICATIONS.labels(result.outcome.value).inc()
        if result.worker is not None and record is not None:
            self._statuses.keep(result.worker.nik, record)
        return result

    async def worker(self, nik: str) -> HealthWorker | None:
        return await self._stores.registrants.worker(nik)

    # --- where -----------------------------------------------------------------
    async def facility(self, facility_id: str) -> Facility | None:
        return await self._directory.find(facility_id)

    async def facility_choices(self, nik: str) -> list[Facility]:
        """The assigned facility first, then the others in the same regency (by name)."""
        facility_id, version = await self._stores.registrants.facility_of(nik)
        if not facility_id:
            return []
        await self._directory.ensure(version)
        return self._directory.choices_for(facility_id)

    async def facilities(self) -> list[Facility]:
        """Every facility (cached), by id."""
        await self._directory.ensure()
        return self._directory.all()

    # --- screening -------------------------------------------------------------
    def screening_groups(self) -> list[ScreeningGroup]:
        """The yes/no screens in order (data from menus/screening.toml, cached)."""
        return list(self._screener.groups)

    async def record_screening(self, nik: str, answers: dict[str, bool]) -> ScreeningResult:
        """Decide from the age band (today) or the answers {group_id: yes?} given, and store
        the outcome with the registration; a deferral still running is answered as stored.

        A NIK that is not listed gets NOT_ELIGIBLE with reason_id "not_listed", one with an
        active booking NOT_ELIGIBLE with reason_id "already_booked" (``ALREADY_BOOKED``): the
        booking's dose was screened already; one who has had every dose NOT_ELIGIBLE with
        reason_id "course_complete" (``COURSE_COMPLETE``) (nothing stored in any of these).
        """
        self._statuses.forget(nik)
        return await self._screener.record(nik, answers)  # counted in metrics when stored

    async def screening_hold(self, nik: str) -> ScreeningResult | None:
        """Before the questions: every dose given (``COURSE_COMPLETE``), an age outside this
        phase (recorded now, as a screening) or a deferral still running; None when the
        questions may be asked."""
        self._statuses.forget(nik)
        return await self._screener.hold(nik)

    def screening_reason(self, reason_id: str) -> ScreeningReason | None:
        """The reason and advice texts of a screening outcome's ``reason_id`` (a screening
        group or an age band), per language; None for the domain's own ids."""
        return self._eligibility.reason(reason_id)

    # --- when ------------------------------------------------------------------
    async def available_slots(self, facility_id: str, *, nik: str = "") -> list[SlotAvailability]:
        """Every (day, session) in the booking window, with seats left (full ones too); with
        ``nik``, only the days that registrant may book (their age band on the day; a dose 2
        not before its due date), seat counts up to a second old (see registration.offer)."""
        return await self._offer.slots(facility_id, nik)

    async def book(
        self,
        nik: str,
        facility_id: str,
        day: date,
        session_id: str,
        *,
        channel: str = "",
        phone: str = "",
    ) -> BookingResult:
        """Atomically take a seat and issue the ticket. Idempotent for the same slot. ``phone``:
        the phone a channel acts for: OTHER_PHONE (nothing changes) while the registrant is
        listed with another (re-imported since it verified the NIK); "" is not checked."""
        self._statuses.forget(nik)
        result = await self._booker.book(nik, facility_id, day, session_id, phone=phone)
        metrics.BOOKINGS.labels(result.outcome.value, channel or "other").inc()
        if result.outcome is BookingOutcome.FULL:
            self._offer.forget(facility_id)
        return result

    async def reschedule(
        self,
        nik: str,
        facility_id: str,
        day: date,
        session_id: str,
        *,
        channel: str = "",
        phone: str = "",
    ) -> BookingResult:
        """Give the current seat back and take the new one (new ticket, old cancelled).

        The new seat is taken before the old one is given back: if the new slot is
        full the result is FULL and the current booking stays as it was. ``phone``: as
        for :meth:`book`.
        """
        self._statuses.forget(nik)
        result = await self._booker.book(
            nik, facility_id, day, session_id, reschedule=True, phone=phone
        )
        metrics.BOOKINGS.labels(f"reschedule_{result.outcome.value}", channel or "other").inc()
        if result.outcome is BookingOutcome.FULL:
            self._offer.forget(facility_id)
        return result

    async def cancel(self, nik: str, *, code: str = "", phone: str = "") -> Ticket | None:
        """Cancel the active booking, giving the seat back; returns the cancelled ticket.

        ``code``: the ticket the caller was shown: a booking moved since is not cancelled.
        ``phone``: as for :meth:`book`. None when nothing was cancelled (read the status to
        show what holds now).
        """
        self._statuses.forget(nik)
        return await self._booker.cancel(nik, code, phone)

    async def repair(self) -> int:
        """Give back seats held by crashed bookings/cancellations; run every minute or so."""
        return await self._stores.bookings.repair()

    async def maintenance_loop(self, interval_seconds: float = 60.0) -> None:
        """Run :meth:`repair` forever (a server starts it as a task and cancels it on exit)."""
        await repair_forever(self.repair, self._stores.backend.transient_errors, interval_seconds)

    # --- tickets and status ----------------------------------------------------
    async def ticket(self, code: str) -> Ticket | None:
        code = code.strip().upper()
        if not self._signer.looks_like_code(code):
            return None
        return await self._stores.bookings.ticket(code)

    async def status_by_phone(self, phone: str) -> list[RegistrantStatus]:
        """Every registrant listed with this phone (a household may share one)."""
        return await self._statuses.by_phone(phone)

    async def status_by_nik(self, nik: str) -> RegistrantStatus | None:
        return await self._statuses.by_nik(nik)

    def planned_dose2(self, ticket: Ticket) -> date | None:
        """For a dose-1 ticket: when dose 2 would be due if checked in on the ticket's day."""
        return self._eligibility.dose2_due(ticket.nik, ticket.day) if ticket.dose == 1 else None

    async def check_in(self, payload_or_code: str, *, facility_id: str) -> CheckInResult:
        """Validate a scanned QR payload (signature, state) at the scanning facility, today
        (give or take ``check_in_tolerance_days``), and mark the ticket used.

        A bare ticket code (operator lookup) is VALID only while the ticket is active.
        """
        result = await self._checkin.check_in(payload_or_code, facility_id)
        if result.ticket is not None:
            self._statuses.forget(result.ticket.nik)
        return result

    def ticket_png(self, ticket: Ticket) -> bytes:  # the QR image of the payload
        return qr_png(ticket.payload)

    def ticket_svg(self, ticket: Ticket) -> bytes:
        return qr_svg(ticket.payload)
