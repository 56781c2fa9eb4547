"""Booking, rescheduling and cancelling: a seat and a ticket, atomically per side.

A registrant's keys and a facility's seat counters live in different Cluster
slots, so one script cannot cover both. The steps, each idempotent:

1. record the intent in ``pending_releases`` and claim on the registrant side
   (Lua: eligible? one booking only? no other claim in flight?);
2. take the seat on the facility side (Lua; full -> drop the claim);
3. create the ticket record under a fresh unique code (retry on collision);
4. confirm on the registrant side (the claim must still be ours and in time),
   then forget the intent; a reschedule then gives the old seat back.

A crash between steps leaves an intent whose claim is not the registrant's
confirmed booking: :meth:`Booker.repair` (and the next claim by the same person)
gives that seat back. A ticket record without a confirmed booking is harmless:
ticket lookups and check-in compare it with the registrant's booking.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import redis.asyncio as aioredis

from core.redis_lean import Call, Commands, FastRedis, as_dict
from registration import registrant_lua, stats
from registration.facilities import FacilityDirectory
from registration.keys import RegistryKeys
from registration.models import BookingOutcome, BookingResult, Facility, Ticket, TicketState
from registration.records import day_key, ticket_from
from registration.slots import SeatBook, local_today, window_days
from registration.tickets import TicketSigner

# KEYS: ticket. ARGV: field/value pairs -> 1 created, 0 code taken.
CREATE_TICKET_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""
GRACE_MS = 10_000  # a claim is repaired only this long after its deadline (clock skew)
BUSY_WAIT = 0.05  # a second confirmation of the same person waits for the first
MAX_CODE_TRIES = 20  # collisions are ~1e-6 likely each with 31^8 codes


@dataclass
class BookingRules:
    window_days: int
    closed_weekdays: list[int]
    claim_timeout_seconds: int
    utc_offset_hours: float


class Booker:
    def __init__(
        self,
        redis: aioredis.Redis,
        fast: FastRedis,
        keys: RegistryKeys,
        directory: FacilityDirectory,
        seats: SeatBook,
        signer: TicketSigner,
        rules: BookingRules,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis, self._fast, self._keys = redis, fast, keys
        self._dir, self._seats = directory, seats
        self._signer, self._rules, self._clock = signer, rules, clock
        self._claim = redis.register_script(registrant_lua.CLAIM)
        self._abort = redis.register_script(registrant_lua.ABORT)
        self._confirm = redis.register_script(registrant_lua.CONFIRM)
        self._cancel = redis.register_script(registrant_lua.CANCEL)
        self._create_ticket = redis.register_script(CREATE_TICKET_LUA)
        # The scripts run over the lean client; redis-py only computes their sha here.
        fast.register(self._claim, self._abort, self._confirm, self._cancel, self._create_ticket)

    def today(self) -> date:
        return local_today(self._clock(), self._rules.utc_offset_hours)

    def window(self) -> list[date]:
        r = self._rules
        return window_days(self.today(), r.window_days, r.closed_weekdays)

    def _stamp(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _registrant_keys(self, nik: str) -> list[str]:
        k = self._keys
        return [k.booking(nik), k.screening(nik), k.registrant_status(nik), k.worker(nik)]

    async def current_ticket(self, nik: str) -> Ticket | None:
        booking = as_dict(await self._fast.execute("HGETALL", self._keys.booking(nik)))
        return ticket_from({**booking, "nik": nik})

    async def book(
        self, nik: str, facility_id: str, day: date, session_id: str, *, reschedule: bool = False
    ) -> BookingResult:
        await self._dir.ensure_recent()
        facility = self._dir.get(facility_id)
        if facility is None or self._seats.label(session_id) is None or day not in self.window():
            return BookingResult(BookingOutcome.INVALID_SLOT)
        # Real time, not the injectable clock: this bounds how long we wait, not a date.
        give_up = time.monotonic() + self._rules.claim_timeout_seconds + GRACE_MS / 1000
        while True:
            result = await self._attempt(nik, facility, day, session_id, reschedule)
            if result is not None:
                return result
            if time.monotonic() > give_up:  # another booking of this person never finished
                return BookingResult(BookingOutcome.ALREADY_BOOKED, await self.current_ticket(nik))
            await asyncio.sleep(BUSY_WAIT)

    def _ticket_fields(self, code: str, nik: str, fid: str, day: date, session_id: str) -> list:
        """A reserved ticket: everything but dose and payload, not usable ("cancelled") yet."""
        fields = {
            "code": code,
            "nik": nik,
            "fid": fid,
            "day": day_key(day),
            "session": session_id,
            "state": TicketState.CANCELLED.value,
            "created_at": self._stamp(),
        }
        return [x for pair in fields.items() for x in pair]

    async def _attempt(
        self, nik: str, facility: Facility, day: date, session_id: str, reschedule: bool
    ) -> BookingResult | None:
        """One try; None means "another booking of this person is in flight: wait"."""
        k, fid, dkey = self._keys, facility.facility_id, day_key(day)
        claim_id = secrets.token_hex(6)
        holder, member = f"{nik}|{claim_id}", f"{fid}|{dkey}|{nik}|{claim_id}"
        now_ms = int(self._clock() * 1000)
        deadline = now_ms + self._rules.claim_timeout_seconds * 1000
        mode = "reschedule" if reschedule else "book"
        args = (mode, fid, dkey, session_id, claim_id, now_ms, deadline, GRACE_MS)
        code = self._signer.new_code()
        # Round trip 1: intent first, then claim, seat and ticket code (independent slots).
        _, claim, taken, reserved = await self._fast.batch(
            [
                ("ZADD", k.pending_releases(), deadline + GRACE_MS, member),
                Call(self._claim, self._registrant_keys(nik), args),
                self._seats.take_call(facility, day, session_id, holder),
                Call(
                    self._create_ticket,
                    (k.ticket(code),),
                    self._ticket_fields(code, nik, fid, day, session_id),
                ),
            ]
        )
        kind, claimed = claim[0], claim[0] == "claimed"
        stale = Commands()
        if claimed and claim[4]:  # a crashed earlier attempt of this person: give its seat back
            stale_fid, stale_day, stale_claim = claim[2], claim[3], claim[4]
            stale.append(self._seats.release_call(stale_fid, stale_day, f"{nik}|{stale_claim}"))
            stale.append(
                ("ZREM", k.pending_releases(), f"{stale_fid}|{stale_day}|{nik}|{stale_claim}")
            )
        if not claimed or not taken:
            undo: list[Any] = [*stale]
            if taken:
                undo.append(self._seats.release_call(fid, dkey, holder))
            if claimed:
                undo.append(Call(self._abort, (k.booking(nik),), (claim_id,)))
            undo.append(("ZREM", k.pending_releases(), member))
            if reserved:
                undo.append(("DEL", k.ticket(code)))
            undo.append(("HGETALL", k.booking(nik)))
            current = ticket_from({**as_dict((await self._fast.batch(undo))[-1]), "nik": nik})
            if kind == "busy":
                return None
            if kind == "same":
                return BookingResult(BookingOutcome.BOOKED, current)
            if kind in ("already", "done"):
                return BookingResult(BookingOutcome.ALREADY_BOOKED, current)
            if not claimed:
                return BookingResult(BookingOutcome.NOT_ELIGIBLE)
            return BookingResult(BookingOutcome.FULL)
        dose = int(claim[1])
        code, payload = await self._new_ticket(
            nik, fid, day, session_id, dose, code if reserved else ""
        )
        line = f"{self._stamp()} booked {code} {fid} {dkey} {session_id} dose {dose}"
        confirm_args = (claim_id, int(self._clock() * 1000), code, payload, line, nik)
        # Round trip 2: complete the ticket, confirm, forget the intent, count.
        batch: list[Any] = [
            ("HSET", k.ticket(code), "state", "active", "dose", dose, "payload", payload),
            *stale,
        ]
        if claim[7]:  # the seat a reschedule replaces: intent first, as for a cancel
            # Due after our claim expires: the sweeper keeps the seat if we never confirm.
            old_member = f"{claim[5]}|{claim[6]}|{nik}|{claim[7]}"
            batch.append(("ZADD", k.pending_releases(), deadline + GRACE_MS, old_member))
        at = len(batch)
        batch.append(Call(self._confirm, (k.booking(nik), k.registrant_status(nik)), confirm_args))
        batch.append(("ZREM", k.pending_releases(), member))
        counts = Commands()
        stats.bump(counts, k, facility.regency, "booked")
        confirm = (await self._fast.batch([*batch, *counts]))[at]
        if confirm[0] != "ok":  # too slow, or taken over: undo and try again from the start
            undo_counts = Commands()
            stats.bump(undo_counts, k, facility.regency, "booked", -1)
            await self._fast.batch(
                [
                    ("HSET", k.ticket(code), "state", TicketState.CANCELLED.value),
                    *undo_counts,
                    *self._give_back_cmds(fid, dkey, nik, claim_id),
                ]
            )
            return None
        old_fid, old_day, old_claim, old_code = confirm[1:5]
        if old_claim:  # the reschedule replaced a booking: its seat and ticket go
            old = self._dir.get(old_fid)
            old_counts = Commands()
            stats.bump(old_counts, k, old.regency if old else "", "booked", -1)
            await self._fast.batch(
                [
                    *self._give_back_cmds(old_fid, old_day, nik, old_claim),
                    ("HSET", k.ticket(old_code), "state", TicketState.CANCELLED.value),
                    *old_counts,
                ]
            )
        ticket = Ticket(code, nik, fid, day, session_id, dose, TicketState.ACTIVE, payload)
        return BookingResult(BookingOutcome.BOOKED, ticket)

    async def _new_ticket(
        self, nik: str, fid: str, day: date, session_id: str, dose: int, reserved: str
    ) -> tuple[str, str]:
        """(code, signed payload): the code reserved in round trip 1, else a fresh one."""
        for _ in range(MAX_CODE_TRIES):
            code = reserved or self._signer.new_code()
            fields = self._ticket_fields(code, nik, fid, day, session_id)
            key = (self._keys.ticket(code),)
            if reserved or await self._fast.evalsha(self._create_ticket, key, fields):
                return code, self._signer.payload(code, fid, day, session_id, dose)
        # Only a tiny code space (misconfigured alphabet/length) gets here.
        raise RuntimeError(f"no free ticket code after {MAX_CODE_TRIES} tries")

    def _give_back_cmds(self, fid: str, day: str, nik: str, claim_id: str) -> list[Any]:
        """Release a seat, then forget its intent (both idempotent; in this order)."""
        return [
            self._seats.release_call(fid, day, f"{nik}|{claim_id}"),
            ("ZREM", self._keys.pending_releases(), f"{fid}|{day}|{nik}|{claim_id}"),
        ]

    async def cancel(self, nik: str) -> Ticket | None:
        k = self._keys
        booking = as_dict(await self._fast.execute("HGETALL", k.booking(nik)))
        if booking.get("state") != TicketState.ACTIVE:
            return None
        fid, dkey = booking["fid"], booking["day"]
        claim_id, code = booking["claim"], booking["code"]
        member = f"{fid}|{dkey}|{nik}|{claim_id}"
        # Intent first: if we die after cancelling, the sweeper gives the seat back (after
        # the grace period, so that it never races this cancellation).
        due = int(self._clock() * 1000) + GRACE_MS
        line = f"{self._stamp()} cancelled {code}"
        _, done = await self._fast.batch(
            [
                ("ZADD", k.pending_releases(), due, member),
                Call(self._cancel, (k.booking(nik), k.registrant_status(nik)), (claim_id, line)),
            ]
        )
        if not done:  # changed under us (checked in, cancelled): the sweeper sorts it out
            return None
        facility = self._dir.get(fid)
        regency = facility.regency if facility else ""
        counts = Commands()
        stats.bump(counts, k, regency, "booked", -1)
        stats.bump(counts, k, regency, "cancelled")
        await self._fast.batch(
            [
                *self._give_back_cmds(fid, dkey, nik, claim_id),
                ("HSET", k.ticket(code), "state", TicketState.CANCELLED.value),
                *counts,
            ]
        )
        ticket = ticket_from({**booking, "nik": nik})
        return replace(ticket, state=TicketState.CANCELLED) if ticket else None

    async def repair(self, limit: int = 1000) -> int:
        """Give back seats of crashed claims and cancellations; returns how many were freed."""
        now_ms = int(self._clock() * 1000)
        due = await self._redis.zrangebyscore(
            self._keys.pending_releases(), "-inf", now_ms, start=0, num=limit
        )
        freed = 0
        for member in due:
            fid, dkey, nik, claim_id = member.split("|")
            booking = await self._redis.hmget(
                self._keys.booking(nik), "state", "claim", "c_id", "c_deadline"
            )
            state, claim, c_id, c_deadline = booking
            if state in (TicketState.ACTIVE, TicketState.USED) and claim == claim_id:
                await self._redis.zrem(self._keys.pending_releases(), member)  # the seat is in use
                continue
            if c_id == claim_id and int(c_deadline or 0) + GRACE_MS > now_ms:
                continue  # still in flight
            freed += await self._seats.release(fid, dkey, f"{nik}|{claim_id}")
            await self._redis.zrem(self._keys.pending_releases(), member)
        return freed
