"""The registration facade both channels call. CONTRACT: signatures are fixed.

Channels (USSD dialogue, SMS dialogue, operator API) use only this class and the
dataclasses in `registration.models`; the modules behind it (registry import,
verification, screening, slots, tickets) are the domain's own business.

Round trips on the USSD hot path: ``verify`` 1 (+1 to read the matched record),
``facility_choices`` 1, ``available_slots`` 1 (facility records and the
screening data are cached in-process; an import bumps a version every process
checks in the same pipeline).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from registration import overview, registrant_lua, stats
from registration.booking import Booker, BookingRules
from registration.checkin import CheckIn
from registration.config import Config
from registration.facilities import FacilityDirectory
from registration.keys import Keys
from registration.models import (
    BookingResult,
    CheckInResult,
    Facility,
    HealthWorker,
    RegistrantStatus,
    ScreeningGroup,
    ScreeningOutcome,
    ScreeningResult,
    SlotAvailability,
    Ticket,
    Verification,
)
from registration.phone import normalise_phone
from registration.records import day_key, parse_day, screening_from, ticket_from, worker_from
from registration.screening import evaluate, load_groups
from registration.settings import (
    RegistrationSettings,
    TicketSettings,
    load_settings,
    parse_sessions,
)
from registration.slots import SeatBook
from registration.store import keys_for
from registration.tickets import TicketSigner, qr_png, qr_svg
from registration.verification import Verifier

log = logging.getLogger(__name__)


class Registry:
    """One per process; cheap to share between concurrent handlers."""

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        settings: RegistrationSettings,
        ticket_settings: TicketSettings,
        signing_key: str,
        *,
        groups: list[ScreeningGroup],
        utc_offset_hours: int = 7,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis, self._keys, self._clock = redis, keys, clock
        self._groups = groups
        self._offset = utc_offset_hours
        self._directory = FacilityDirectory(redis, keys, settings.facility_cache_seconds)
        self._seats = SeatBook(redis, keys, parse_sessions(settings.sessions))
        self._signer = TicketSigner(
            signing_key, ticket_settings.code_alphabet, ticket_settings.code_length
        )
        self._verifier = Verifier(redis, keys, settings.max_nik_attempts, settings.lockout_seconds)
        rules = BookingRules(
            settings.booking_window_days,
            list(settings.closed_weekdays),
            settings.claim_timeout_seconds,
            utc_offset_hours,
        )
        self._booker = Booker(redis, keys, self._directory, self._seats, self._signer, rules, clock)
        self._checkin = CheckIn(
            redis,
            keys,
            self._signer,
            self._directory,
            ticket_settings.dose_interval_days,
            utc_offset_hours,
            clock,
        )
        self._record = redis.register_script(registrant_lua.RECORD_SCREENING)

    @classmethod
    def from_config(
        cls, config: Config, redis: aioredis.Redis, *, clock: Callable[[], float] = time.time
    ) -> Registry:
        settings, ticket_settings, offset = load_settings(config)
        key = config.secret("tickets", "signing_key") or ""
        groups = load_groups(config.resolve_path(settings.screening_file))
        return cls(
            redis,
            keys_for(config),
            settings,
            ticket_settings,
            key,
            groups=groups,
            utc_offset_hours=offset,
            clock=clock,
        )

    @property
    def keys(self) -> Keys:
        return self._keys

    async def warm_up(self) -> None:
        """Load every Lua script and the facility cache (call once at start-up).

        Without it the first burst of callers each finds the script missing and loads it.
        """
        parts = (self, self._verifier, self._seats, self._booker, self._checkin)
        for part in parts:
            for value in vars(part).values():
                if isinstance(value, AsyncScript):
                    await self._redis.script_load(value.script)
        await self._directory.ensure(check=True)

    # --- who is listed ---------------------------------------------------------
    async def verify(self, phone: str, last6: str) -> Verification:
        """(phone, last 6 NIK digits) -> the registrant, or why not (counts attempts, locks)."""
        return await self._verifier.verify(phone, last6)

    async def worker(self, nik: str) -> HealthWorker | None:
        return worker_from(await self._redis.hgetall(self._keys.worker(nik)))

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
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(self._keys.worker(nik), "facility_id")
            self._directory.queue_version(pipe)
            facility_id, version = await pipe.execute()
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
        result = evaluate(self._groups, answers, self._booker.today())
        stamp = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="seconds")
        k = self._keys
        keys = [k.screening(nik), k.worker(nik), k.registrant_status(nik)]
        args = [
            result.outcome.value,
            result.reason_id,
            day_key(result.retry_on) if result.retry_on else "",
            json.dumps({k: bool(v) for k, v in answers.items()}, sort_keys=True),
            stamp,
        ]
        reply = await self._record(keys=keys, args=args)
        if reply[0] == "not_listed":
            return ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, "not_listed")
        previous, facility_id = reply[0], reply[1]
        await self._directory.ensure()
        facility = self._directory.get(facility_id)
        regency = facility.regency if facility else ""
        async with self._redis.pipeline(transaction=False) as pipe:
            if not previous:
                stats.bump(pipe, self._keys, regency, "screened")
            else:
                stats.bump(pipe, self._keys, regency, previous, -1)
            stats.bump(pipe, self._keys, regency, result.outcome.value)
            await pipe.execute()
        return result

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
        return await self._booker.book(nik, facility_id, day, session_id)

    async def reschedule(
        self, nik: str, facility_id: str, day: date, session_id: str, *, channel: str = ""
    ) -> BookingResult:
        """Give the current seat back and take the new one (new ticket, old cancelled).

        The new seat is taken before the old one is given back: if the new slot is
        full the result is FULL and the current booking stays as it was.
        """
        return await self._booker.book(nik, facility_id, day, session_id, reschedule=True)

    async def cancel(self, nik: str) -> Ticket | None:
        """Cancel the active booking, giving the seat back; returns the cancelled ticket."""
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
        niks = sorted(await self._redis.smembers(self._keys.phone_index(normalised.value)))
        found = [await self.status_by_nik(nik) for nik in niks]
        return [s for s in found if s is not None]

    async def status_by_nik(self, nik: str) -> RegistrantStatus | None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._keys.worker(nik))
            pipe.hgetall(self._keys.screening(nik))
            pipe.hgetall(self._keys.booking(nik))
            pipe.hgetall(self._keys.registrant_status(nik))
            raw_worker, raw_screening, raw_booking, raw_status = await pipe.execute()
        worker = worker_from(raw_worker)
        if worker is None:
            return None
        await self._directory.ensure()
        history = [line for line in raw_status.get("history", "").split("\n") if line]
        return RegistrantStatus(
            worker=worker,
            facility=self._directory.get(worker.facility_id),
            screening=screening_from(raw_screening),
            ticket=ticket_from({**raw_booking, "nik": nik}),
            dose2_due=parse_day(raw_status.get("dose2_due")),
            history=history,
        )

    async def check_in(self, payload_or_code: str) -> CheckInResult:
        """Validate a scanned QR payload (signature, state) and mark the ticket used.

        A bare ticket code (operator lookup) is VALID only while the ticket is active.
        """
        return await self._checkin.check_in(payload_or_code)

    def ticket_png(self, ticket: Ticket) -> bytes:
        return qr_png(ticket.payload)

    def ticket_svg(self, ticket: Ticket) -> bytes:
        return qr_svg(ticket.payload)

    # --- operator views ----------------------------------------------------------
    async def stats(self) -> dict[str, Any]:
        """Counters by status and by regency (see registration.stats for their meaning)."""
        return await stats.read(self._redis, self._keys)

    async def facility_overview(self) -> list[dict[str, Any]]:
        """Each facility with its capacity and booked seats over the booking window."""
        await self._directory.ensure(check=True)
        return await overview.facility_overview(
            self._redis, self._seats, self._directory.all(), self._booker.window()
        )
