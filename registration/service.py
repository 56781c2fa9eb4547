"""The registration facade both channels call. CONTRACT: signatures are fixed.

Channels (USSD dialogue, SMS dialogue, operator API) use only this class and the
dataclasses in `registration.models`; the modules behind it (registry import,
verification, screening, slots, tickets) are the domain's own business.

The hot path (verify, worker, status, facility choices, screening, slots, booking,
tickets) runs over one lean pipelined connection (:mod:`core.redis_lean`);
imports, operator views and repairs keep redis-py. Round trips: ``verify``
1 (+1 to read the matched record, another Cluster slot), ``status_by_nik`` 1,
``facility_choices`` 1, ``record_screening`` 1 (+ the counters it decides, not
waited for), ``available_slots`` 1, ``book`` 2 (see registration.booking). Facility
records and the screening data are cached in-process; an import bumps a version
every process checks in the same pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import redis.asyncio as aioredis

from core.config import Config
from core.phone import normalise_phone
from core.redis_lean import FastRedis, as_dict
from core.settings import redis_settings
from registration import importer, overview, recipients, registrant_lua, stats
from registration.booking import Booker, BookingRules
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
from registration.records import worker_from
from registration.registrant_status import Prefetched, build_status, read_status
from registration.screening import evaluate, load_groups
from registration.screening_store import store_screening
from registration.settings import (
    RegistrationSettings,
    TicketSettings,
    load_settings,
    parse_sessions,
)
from registration.slots import SeatBook
from registration.tickets import TicketSigner, qr_png, qr_svg
from registration.verification import Verifier

log = logging.getLogger(__name__)


class Registry:
    """One per process; cheap to share between concurrent handlers."""

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: RegistryKeys,
        settings: RegistrationSettings,
        ticket_settings: TicketSettings,
        signing_key: str,
        *,
        groups: list[ScreeningGroup],
        utc_offset_hours: float = 7.0,
        clock: Callable[[], float] = time.time,
        fast: FastRedis | None = None,
    ) -> None:
        self._redis, self._keys, self._clock = redis, keys, clock
        # The hot path's lean connection: the caller's (shared, the caller closes it) or
        # our own to the same server as ``redis`` (closed by :meth:`aclose`).
        self._owns_fast = fast is None
        self._fast = fast if fast is not None else FastRedis.like(redis)
        fast = self._fast
        self._groups = groups
        self._prefetched = Prefetched()  # status read by verify, for the same hop
        self._offset = utc_offset_hours
        self._directory = FacilityDirectory(redis, keys, settings.facility_cache_seconds)
        self._seats = SeatBook(redis, fast, keys, parse_sessions(settings.sessions))
        self._signer = TicketSigner(
            signing_key, ticket_settings.code_alphabet, ticket_settings.code_length
        )
        self._verifier = Verifier(
            redis, fast, keys, settings.max_nik_attempts, settings.lockout_seconds
        )
        rules = BookingRules(
            settings.booking_window_days,
            list(settings.closed_weekdays),
            settings.claim_timeout_seconds,
            utc_offset_hours,
        )
        self._booker = Booker(
            redis, fast, keys, self._directory, self._seats, self._signer, rules, clock
        )
        interval = ticket_settings.dose_interval_days
        self._checkin = CheckIn(
            redis, fast, keys, self._signer, self._directory, interval, utc_offset_hours, clock
        )
        self._record = redis.register_script(registrant_lua.RECORD_SCREENING)
        fast.register(self._record)

    @classmethod
    def from_config(
        cls,
        config: Config,
        redis: aioredis.Redis,
        *,
        clock: Callable[[], float] = time.time,
        fast: FastRedis | None = None,
    ) -> Registry:
        settings, ticket_settings, offset = load_settings(config)
        key = config.secret("tickets", "signing_key") or ""
        groups = load_groups(config.resolve_path(settings.screening_file))
        return cls(
            redis,
            RegistryKeys(redis_settings(config).key_prefix),
            settings,
            ticket_settings,
            key,
            groups=groups,
            utc_offset_hours=offset,
            clock=clock,
            fast=fast,
        )

    @property
    def keys(self) -> RegistryKeys:
        return self._keys

    @property
    def fast(self) -> FastRedis:
        """The lean connection; the dialogue engine shares it for session reads/writes."""
        return self._fast

    async def aclose(self) -> None:
        """Close the lean connection if this Registry opened it."""
        if self._owns_fast:
            await self._fast.aclose()

    async def warm_up(self) -> None:
        """Connect, load every Lua script and the facility cache (call once at start-up).

        Without it the first burst of callers each finds the script missing and loads it.
        """
        await self._fast.load_scripts()
        await self._directory.ensure(check=True)

    # --- the registry itself -----------------------------------------------------
    async def import_facilities(
        self, source: importer.Source, progress: importer.Progress | None = None
    ) -> ImportReport:
        """Load facilities from CSV (idempotent; bad rows reported with line numbers)."""
        return await importer.import_facilities(self._redis, self._keys, source, progress)

    async def import_health_workers(
        self, source: importer.Source, progress: importer.Progress | None = None
    ) -> ImportReport:
        """Load health workers from CSV (facilities first; idempotent)."""
        return await importer.import_health_workers(self._redis, self._keys, source, progress)

    # --- who is listed ---------------------------------------------------------
    async def verify(self, phone: str, last6: str) -> Verification:
        """(phone, last 6 NIK digits) -> the registrant, or why not (counts attempts, locks)."""
        result, replies = await self._verifier.verify(phone, last6)
        if result.worker is not None and replies is not None:
            self._prefetched.keep(result.worker.nik, replies)
        return result

    async def worker(self, nik: str) -> HealthWorker | None:
        return worker_from(as_dict(await self._fast.execute("HGETALL", self._keys.worker(nik))))

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
        facility_id, version = await self._fast.execute_many(
            ("HGET", self._keys.worker(nik), "facility_id"), self._directory.version_command()
        )
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
        return list(self._groups)

    async def record_screening(self, nik: str, answers: dict[str, bool]) -> ScreeningResult:
        """Evaluate answers {group_id: yes?}, store the outcome with the registration.

        A NIK that is not listed gets NOT_ELIGIBLE with reason_id "not_listed" (nothing stored).
        """
        self._prefetched.forget(nik)
        result = evaluate(self._groups, answers, self._booker.today())
        stamp = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="seconds")
        return await store_screening(
            self._fast, self._keys, self._directory, self._record, nik, result, answers, stamp
        )

    # --- when ------------------------------------------------------------------
    async def available_slots(self, facility_id: str) -> list[SlotAvailability]:
        """Every (day, session) in the booking window, with seats left (full ones too)."""
        days = self._booker.window()
        booked = await self._seats.read(facility_id, days)
        await self._directory.ensure_recent()
        facility = self._directory.get(facility_id)
        if facility is None:
            return []
        return self._seats.availability(facility, days, booked)

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
        return await self._booker.repair()

    async def maintenance_loop(self, interval_seconds: float = 60.0) -> None:
        """Run :meth:`repair` forever (a server starts it as a task and cancels it on exit)."""
        while True:
            try:
                freed = await self.repair()
                if freed:
                    log.warning("gave back %d seat(s) held by interrupted bookings", freed)
            except (aioredis.RedisError, OSError) as exc:  # Redis away: try again later
                log.warning("booking repair failed: %s", exc)
            await asyncio.sleep(interval_seconds)

    # --- tickets and status ----------------------------------------------------
    async def ticket(self, code: str) -> Ticket | None:
        code = code.strip().upper()
        if not self._signer.looks_like_code(code):
            return None
        return await self._checkin.ticket(code)

    async def status_by_phone(self, phone: str) -> list[RegistrantStatus]:
        """Every registrant listed with this phone (a household may share one)."""
        normalised = normalise_phone(phone)
        if not normalised.ok:
            return []
        niks = sorted(
            await self._fast.execute("SMEMBERS", self._keys.phone_index(normalised.value))
        )
        found = [await self.status_by_nik(nik) for nik in niks]
        return [s for s in found if s is not None]

    async def status_by_nik(self, nik: str) -> RegistrantStatus | None:
        replies = self._prefetched.take(nik)
        if replies is not None:
            return await build_status(replies, nik, self._directory)
        return await read_status(self._fast, self._keys, self._directory, nik)

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
    ) -> AsyncIterator[list[recipients.Recipient]]:
        """Listed workers matching ``filters`` (regency, profession, facility_id), in batches;
        ``only_unregistered`` leaves out those holding or having used a booking."""
        return recipients.select(
            self._redis, self._keys, self._directory, filters, only_unregistered
        )

    # --- operator views ----------------------------------------------------------
    async def stats(self) -> dict[str, Any]:
        """Counters by status and by regency (see registration.stats for their meaning)."""
        await self._fast.barrier()  # counters this process sent without waiting are in
        return await stats.read(self._redis, self._keys)

    async def facility_overview(self) -> list[dict[str, Any]]:
        """Each facility with its capacity and booked seats over the booking window."""
        await self._directory.ensure(check=True)
        return await overview.facility_overview(
            self._redis, self._seats, self._directory.all(), self._booker.window()
        )
