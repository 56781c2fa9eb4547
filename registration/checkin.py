"""Check-in at the facility: a scanned QR payload, or a bare code typed by an operator.

A payload must carry a valid signature and match the stored ticket field for
field (else FORGED). A bare code has no signature to check, so it is accepted
(VALID, and checked in) only while the ticket is active: operators use it when a
phone cannot show the QR, after checking the person's identity card.
The registrant's booking is the truth; the ticket hash follows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from core.redis_lean import Commands, FastRedis, as_dict
from registration import registrant_lua, stats
from registration.facilities import FacilityDirectory
from registration.keys import RegistryKeys
from registration.models import CheckInOutcome, CheckInResult, Ticket, TicketState
from registration.records import day_key, ticket_from
from registration.slots import local_today
from registration.tickets import TicketSigner, is_payload, matches


class CheckIn:
    def __init__(
        self,
        redis: aioredis.Redis,
        fast: FastRedis,
        keys: RegistryKeys,
        signer: TicketSigner,
        directory: FacilityDirectory,
        dose_interval_days: int,
        utc_offset_hours: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fast, self._keys, self._signer, self._dir = fast, keys, signer, directory
        self._interval, self._offset, self._clock = dose_interval_days, utc_offset_hours, clock
        self._script = redis.register_script(registrant_lua.CHECK_IN)  # sha and body only
        fast.register(self._script)

    async def ticket(self, code: str) -> Ticket | None:
        """The ticket, with its state as the registrant's booking says (the truth)."""
        raw = await self._fast.execute("HGETALL", self._keys.ticket(code))
        ticket = ticket_from(as_dict(raw))
        if ticket is None or ticket.state is not TicketState.ACTIVE:
            return ticket
        booking = await self._fast.execute("HMGET", self._keys.booking(ticket.nik), "state", "code")
        if booking[1] != code:  # never confirmed, or replaced: not usable
            return replace(ticket, state=TicketState.CANCELLED)
        if booking[0] in (TicketState.USED, TicketState.CANCELLED):
            return replace(ticket, state=TicketState(booking[0]))
        return ticket

    async def check_in(self, payload_or_code: str) -> CheckInResult:
        text = payload_or_code.strip()
        if is_payload(text):
            fields = self._signer.verify(text)
            if fields is None:
                return CheckInResult(CheckInOutcome.FORGED)
            ticket = await self.ticket(fields.code)
            if ticket is None:
                return CheckInResult(CheckInOutcome.UNKNOWN)
            if not matches(ticket, fields):
                return CheckInResult(CheckInOutcome.FORGED)
        else:
            code = text.upper().replace(" ", "").replace("-", "")
            if not self._signer.looks_like_code(code):
                return CheckInResult(CheckInOutcome.UNKNOWN)
            ticket = await self.ticket(code)
            if ticket is None:
                return CheckInResult(CheckInOutcome.UNKNOWN)
        if ticket.state is TicketState.USED:
            return CheckInResult(CheckInOutcome.ALREADY_USED, ticket)
        if ticket.state is TicketState.CANCELLED:
            return CheckInResult(CheckInOutcome.CANCELLED, ticket)
        today = local_today(self._clock(), self._offset)
        due = today + timedelta(days=self._interval)
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        reply = await self._fast.evalsha(
            self._script,
            (self._keys.booking(ticket.nik), self._keys.registrant_status(ticket.nik)),
            (ticket.code, day_key(due), f"{stamp} checked in {ticket.code}"),
        )
        if reply[0] == "used":
            used = replace(ticket, state=TicketState.USED)
            return CheckInResult(CheckInOutcome.ALREADY_USED, used)
        if reply[0] != "ok":
            gone = replace(ticket, state=TicketState.CANCELLED)
            return CheckInResult(CheckInOutcome.CANCELLED, gone)
        facility = self._dir.get(ticket.facility_id)
        regency = facility.regency if facility else ""
        batch = Commands(
            [("HSET", self._keys.ticket(ticket.code), "state", "used", "used_at", stamp)]
        )
        stats.bump(batch, self._keys, regency, "checked_in")
        stats.bump(batch, self._keys, regency, "booked", -1)
        await self._fast.batch(batch)
        used = replace(ticket, state=TicketState.USED)
        return CheckInResult(CheckInOutcome.VALID, used, due if ticket.dose == 1 else None)
