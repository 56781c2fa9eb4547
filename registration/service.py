"""The registration facade both channels call. CONTRACT: signatures are fixed.

Channels (USSD dialogue, SMS dialogue, operator API) use only this class and the
dataclasses in `registration.models`; the modules behind it are the domain's own
business: the rules (verification, slots, booking, checkin, screening, stats)
over the stores of :mod:`registration.stores`. :meth:`Registry.from_config` runs
on Redis; ``registration.memory.memory_registry`` on memory (unit tests).

In Redis the hot path runs over one lean pipelined connection. Round trips:
``verify`` 1 (+1 to read the matched record, another Cluster slot),
``status_by_nik`` 1 (0 right after ``verify`` of the same NIK), ``facility_choices``
1, ``record_screening`` 1 (+ the counters it moves, not waited for),
``available_slots`` 1, ``book`` 2 (see registration.redis_bookings). Facility
records and the screening data are cached in-process; an import bumps a version
every process checks along with its own reads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import TYPE_CHECKING

from core.config import Config
from core.phone import normalise_phone
from core.settings import redis_settings
from registration import importer, overview, recipients, stats
from registration.booking import Booker
from registration.checkin import CheckIn
from registration.facilities import FacilityDirectory
from registration.keys import RegistryKeys
from registration.models import (
    BookingResult,
    CheckInResult,
    Facility,
    HealthWorker,
    ImportReport,
    RegistrantStatus,
    ScreeningGroup,
    ScreeningResult,
    SlotAvailability,
    Ticket,
    Verification,
)
from registration.overview import FacilityLoad
from registration.recipients import Recipient
from registration.redis_stores import redis_stores
from registration.registrant_status import Prefetched, build_status
from registration.rules import Rules
from registration.screening_record import Screener
from registration.stats import RegistryStats
from registration.stores import Stores
from registration.tickets import qr_png, qr_svg
from registration.verification import Verifier

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from core.redis_lean import FastRedis

log = logging.getLogger(__name__)


class Registry:
    """One per process; cheap to share between concurrent handlers."""

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
        self._prefetched = Prefetched()  # records read by verify, for the same hop
        self._directory = directory = FacilityDirectory(
            stores.facilities, rules.facility_cache_seconds
        )
        self._verifier = Verifier(stores.registrants, rules.lockout)
        self._screener = Screener(
            rules.groups, stores.registrants, stores.stats, directory, rules.calendar, clock
        )
        self._booker = Booker(stores.bookings, stores.stats, directory, rules)
        self._checkin = CheckIn(stores.bookings, stores.stats, directory, rules)

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
        keys = RegistryKeys(redis_settings(config).key_prefix)
        stores, lean = redis_stores(redis, keys, clock, fast)
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
    async def verify(self, phone: str, last6: str) -> Verification:
        """(phone, last 6 NIK digits) -> the registrant, or why not (counts attempts, locks)."""
        result, record = await self._verifier.verify(phone, last6)
        if result.worker is not None and record is not None:
            self._prefetched.keep(result.worker.nik, record)
        return result

    async def worker(self, nik: str) -> HealthWorker | None:
        return await self._stores.registrants.worker(nik)

    # --- where -----------------------------------------------------------------
    async def facility(self, facility_id: str) -> Facility | None:
        await self._directory.ensure()
        facility = self._directory.get(facility_id)
        if facility is None:  # maybe imported a moment ago in another process
            await self._directory.ensure(check=True)
            facility = self._directory.get(facility_id)
        return facility

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
        """Evaluate answers {group_id: yes?}, store the outcome with the registration.

        A NIK that is not listed gets NOT_ELIGIBLE with reason_id "not_listed" (nothing stored).
        """
        self._prefetched.forget(nik)
        return await self._screener.record(nik, answers)

    # --- when ------------------------------------------------------------------
    async def available_slots(self, facility_id: str) -> list[SlotAvailability]:
        """Every (day, session) in the booking window, with seats left (full ones too)."""
        days = self._calendar.window()
        booked = await self._stores.facilities.seats_booked(facility_id, days)
        await self._directory.ensure_recent()
        facility = self._directory.get(facility_id)
        if facility is None:
            return []
        return self._calendar.availability(facility, days, booked)

    async def book(
        self, nik: str, facility_id: str, day: date, session_id: str, *, channel: str = ""
    ) -> BookingResult:
        """Atomically take a seat and issue the ticket. Idempotent for the same slot."""
        self._prefetched.forget(nik)
        return await self._booker.book(nik, facility_id, day, session_id)

    async def reschedule(
        self, nik: str, facility_id: str, day: date, session_id: str, *, channel: str = ""
    ) -> BookingResult:
        """Give the current seat back and take the new one (new ticket, old cancelled).

        The new seat is taken before the old one is given back: if the new slot is
        full the result is FULL and the current booking stays as it was.
        """
        self._prefetched.forget(nik)
        return await self._booker.book(nik, facility_id, day, session_id, reschedule=True)

    async def cancel(self, nik: str) -> Ticket | None:
        """Cancel the active booking, giving the seat back; returns the cancelled ticket."""
        self._prefetched.forget(nik)
        return await self._booker.cancel(nik)

    async def repair(self) -> int:
        """Give back seats held by crashed bookings/cancellations; run every minute or so."""
        return await self._stores.bookings.repair()

    async def maintenance_loop(self, interval_seconds: float = 60.0) -> None:
        """Run :meth:`repair` forever (a server starts it as a task and cancels it on exit)."""
        while True:
            try:
                freed = await self.repair()
                if freed:
                    log.warning("gave back %d seat(s) held by interrupted bookings", freed)
            except self._stores.backend.transient_errors as exc:  # storage away: try later
                log.warning("booking repair failed: %s", exc)
            await asyncio.sleep(interval_seconds)

    # --- tickets and status ----------------------------------------------------
    async def ticket(self, code: str) -> Ticket | None:
        code = code.strip().upper()
        if not self._signer.looks_like_code(code):
            return None
        return await self._stores.bookings.ticket(code)

    async def status_by_phone(self, phone: str) -> list[RegistrantStatus]:
        """Every registrant listed with this phone (a household may share one)."""
        normalised = normalise_phone(phone)
        if not normalised.ok:
            return []
        niks = await self._stores.registrants.niks_by_phone(normalised.value)
        found = [await self.status_by_nik(nik) for nik in niks]
        return [s for s in found if s is not None]

    async def status_by_nik(self, nik: str) -> RegistrantStatus | None:
        prefetched = self._prefetched.take(nik)
        if prefetched is not None:
            return await build_status(prefetched(), self._directory)
        return await build_status(await self._stores.registrants.record(nik), self._directory)

    async def check_in(self, payload_or_code: str) -> CheckInResult:
        """Validate a scanned QR payload (signature, state) and mark the ticket used.

        A bare ticket code (operator lookup) is VALID only while the ticket is active.
        """
        result = await self._checkin.check_in(payload_or_code)
        if result.ticket is not None:
            self._prefetched.forget(result.ticket.nik)
        return result

    def ticket_png(self, ticket: Ticket) -> bytes:
        return qr_png(ticket.payload)

    def ticket_svg(self, ticket: Ticket) -> bytes:
        return qr_svg(ticket.payload)

    def recipients(
        self, filters: dict[str, list[str]], only_unregistered: bool
    ) -> AsyncIterator[list[Recipient]]:
        """Listed workers matching ``filters`` (regency, profession, facility_id), in batches;
        ``only_unregistered`` leaves out those holding or having used a booking."""
        return recipients.select(
            self._stores.registrants, self._directory, filters, only_unregistered
        )

    # --- operator views ----------------------------------------------------------
    async def stats(self) -> RegistryStats:
        """Counters by status and by regency (see registration.stats for their meaning)."""
        return stats.view(await self._stores.stats.read())

    async def facility_overview(self) -> list[FacilityLoad]:
        """Each facility with its capacity and booked seats over the booking window."""
        await self._directory.ensure(check=True)
        facilities = self._directory.all()
        return await overview.facility_overview(
            self._stores.facilities, self._calendar, facilities, self._calendar.window()
        )
