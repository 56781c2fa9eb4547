"""Booking in Redis: a seat and a ticket, atomically per side (:meth:`BookingStore.book`).

A registrant's keys and a facility's seat counters live in different Cluster
slots, so one script cannot cover both. The steps, each idempotent:

1. record the intent in ``pending_releases`` and claim on the registrant side
   (Lua: eligible? one booking only? no other claim in flight?);
2. take the seat on the facility side (Lua; full -> drop the claim);
3. create the ticket record under a fresh unique code (retry on collision);
4. confirm on the registrant side (the claim must still be ours and in time),
   then forget the intent; a reschedule then gives the old seat back.

Round trips: 1-3 go in one batch (the code is reserved up front), 4 in a second
one; a refusal costs one more (the undo), a reschedule one more (the old seat).
A crash between steps leaves an intent whose claim is not the registrant's
confirmed booking: :meth:`RedisTickets.repair` (and the next claim by the same
person) gives that seat back. A ticket record without a confirmed booking is
harmless: ticket lookups and check-in compare it with the registrant's booking.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass

from redis.exceptions import RedisError

from core.redis_lean import Call, as_dict
from registration import history, redis_lua
from registration.models import BookingOutcome, Ticket, TicketState
from registration.records import day_key, ticket_from
from registration.redis_tickets import RedisTickets, Step
from registration.stores import CLAIM_GRACE_SECONDS, BookAttempt, BookingRequest, TicketIssuer

GRACE_MS = CLAIM_GRACE_SECONDS * 1000
MAX_CODE_TRIES = 20  # collisions are ~1e-6 likely each with 31^8 codes
# Claim replies that end the attempt without a booking of ours ("busy": wait and retry).
REFUSALS = {
    "same": BookingOutcome.BOOKED,
    "already": BookingOutcome.ALREADY_BOOKED,
}


@dataclass(frozen=True, slots=True)
class _Claim:
    """One attempt's names and times."""

    request: BookingRequest
    claim_id: str
    now_ms: int
    deadline_ms: int

    @property
    def nik(self) -> str:
        return self.request.nik

    @property
    def day(self) -> str:
        return day_key(self.request.seat.day)

    @property
    def holder(self) -> str:  # the seat holder
        return f"{self.nik}|{self.claim_id}"

    @property
    def intent(self) -> str:  # the pending_releases member
        return f"{self.request.seat.facility_id}|{self.day}|{self.nik}|{self.claim_id}"


class RedisBookings(RedisTickets):
    """:class:`BookingStore` in Redis: booking here, tickets and cancelling inherited."""

    def _registrant_keys(self, nik: str) -> list[str]:
        k = self._keys
        return [k.booking(nik), k.screening(nik), k.registrant_status(nik), k.worker(nik)]

    def _ticket_fields(self, code: str, claim: _Claim) -> list[str]:
        """A reserved ticket: everything but dose and payload, not usable ("cancelled") yet."""
        seat = claim.request.seat
        fields = {
            "code": code,
            "nik": claim.nik,
            "fid": seat.facility_id,
            "day": claim.day,
            "session": seat.session_id,
            "state": TicketState.CANCELLED.value,
            "created_at": history.stamp(self._clock()),
        }
        return [x for pair in fields.items() for x in pair]

    async def book(self, request: BookingRequest, issuer: TicketIssuer) -> BookAttempt:
        now_ms = int(self._clock() * 1000)
        claim = _Claim(request, secrets.token_hex(6), now_ms, now_ms + request.claim_seconds * 1000)
        code = issuer.new_code()
        reply, taken, reserved = await self._claim_seat_and_code(claim, code)
        # The connections those writes went over: a WAIT on a newer one (a master failed
        # over meanwhile) would not cover them, and must not confirm the booking.
        epoch = self._fast.epoch
        stale = self._stale_claim(claim.nik, reply)
        if reply[0] != "claimed" or not taken:
            return await self._refused(claim, reply, bool(taken), code if reserved else "", stale)
        seat, dose = request.seat, int(reply[1])
        code, payload = await self._new_ticket(claim, issuer, dose, code if reserved else "")
        old = f"{reply[5]}|{reply[6]}|{claim.nik}|{reply[7]}" if reply[7] else ""
        confirm = await self._confirm(claim, code, dose, payload, stale, old, epoch)
        if confirm[0] != "ok":  # too slow, or taken over: undo and try again from the start
            await self._give_up(claim, code)
            return BookAttempt(None)
        # [redis] wait_replicas: not confirmed to the person until a replica has it (a
        # failover then cannot lose it); too few in time raises and the hop says "busy".
        # On one Redis this one WAIT covers the seat and the ticket too (one replication
        # stream, written in order); on a cluster they were waited for before the confirm.
        await self._fast.wait_replicas(self._keys.booking(claim.nik), since=epoch)
        if self._spans_nodes:  # the booking is safe: its intent may go (repair keeps it else)
            await self._fast.execute(*self._forget(claim))
        replaced = await self._give_back_replaced(claim.nik, confirm)
        ticket = Ticket(
            code, claim.nik, seat.facility_id, seat.day, seat.session_id, dose,
            TicketState.ACTIVE, payload,
        )  # fmt: skip
        return BookAttempt(BookingOutcome.BOOKED, ticket, True, replaced)

    async def _claim_seat_and_code(self, claim: _Claim, code: str) -> tuple[list[str], int, int]:
        """Round trip 1: intent first, then claim, seat and ticket code (independent slots)."""
        k, seat = self._keys, claim.request.seat
        mode = "reschedule" if claim.request.reschedule else "book"
        args = (
            mode, seat.facility_id, claim.day, seat.session_id, claim.claim_id,
            claim.now_ms, claim.deadline_ms, GRACE_MS, claim.request.phone,
        )  # fmt: skip
        intent = ("ZADD", k.pending_releases(), claim.deadline_ms + GRACE_MS, claim.intent)
        rest: list[Step] = [
            Call(redis_lua.CLAIM, self._registrant_keys(claim.nik), args),
            self._seats.take_call(seat, claim.holder),
            Call(redis_lua.CREATE_TICKET, (k.ticket(code),), self._ticket_fields(code, claim)),
        ]
        try:
            if self._spans_nodes:  # the intent lives on another master: it must land first
                await self._durably(intent)
                reply, taken, reserved = await self._fast.batch(rest)
            else:  # one connection: the intent runs first anyway
                _, reply, taken, reserved = await self._fast.batch([intent, *rest])
        except (RedisError, OSError):
            await self._release_now(claim)
            raise
        return reply, taken, reserved

    async def _release_now(self, claim: _Claim) -> None:
        """An attempt cut short (a master lost mid-batch): its seat, if taken on a master
        still up, goes back now, not at the repair after claim timeout + grace. A person
        retrying through a failover would otherwise hold one seat per try, and the slot
        would look full to everyone else. Releasing by holder is idempotent; what cannot be
        reached now the repair loop gives back (the intent is recorded)."""
        seat = claim.request.seat
        call = self._seats.release_call(seat.facility_id, claim.day, claim.holder)
        with contextlib.suppress(RedisError, OSError):
            await self._fast.batch([call])

    def _stale_claim(self, nik: str, reply: list[str]) -> list[Step]:
        """A crashed earlier attempt of this person (its claim replaced now): give its seat back."""
        if reply[0] != "claimed" or not reply[4]:
            return []
        return self._give_back_cmds(reply[2], reply[3], nik, reply[4])

    async def _refused(
        self, claim: _Claim, reply: list[str], taken: bool, reserved: str, stale: list[Step]
    ) -> BookAttempt:
        """Undo what round trip 1 did (one more round trip) and say why there is no booking."""
        k, kind = self._keys, reply[0]
        undo: list[Step] = [*stale]
        if taken:
            undo.append(
                self._seats.release_call(claim.request.seat.facility_id, claim.day, claim.holder)
            )
        if kind == "claimed":
            undo.append(Call(redis_lua.ABORT, (k.booking(claim.nik),), (claim.claim_id,)))
        undo.append(("ZREM", k.pending_releases(), claim.intent))
        if reserved:
            undo.append(("DEL", k.ticket(reserved)))
        undo.append(("HGETALL", k.booking(claim.nik)))
        current = ticket_from({**as_dict((await self._ordered(undo))[-1]), "nik": claim.nik})
        if kind == "busy":
            return BookAttempt(None)
        if kind in REFUSALS:
            if current is not None:  # shown as confirmed: e.g. a retry after a failed WAIT
                await self._fast.wait_replicas(k.booking(claim.nik))
            return BookAttempt(REFUSALS[kind], current)
        if kind == "too_early":  # a dose-2 day before its due date
            return BookAttempt(BookingOutcome.TOO_EARLY)
        if kind == "done":  # every dose given: there is nothing to book
            return BookAttempt(BookingOutcome.COURSE_COMPLETE)
        if kind == "other_phone":  # re-listed with another phone than the one acting
            return BookAttempt(BookingOutcome.OTHER_PHONE)
        if kind != "claimed":  # not listed, or no eligible screening for this dose
            return BookAttempt(BookingOutcome.NOT_ELIGIBLE)
        return BookAttempt(BookingOutcome.FULL)

    async def _new_ticket(
        self, claim: _Claim, issuer: TicketIssuer, dose: int, reserved: str
    ) -> tuple[str, str]:
        """(code, signed payload): the code reserved in round trip 1, else a fresh one."""
        seat = claim.request.seat
        for _ in range(MAX_CODE_TRIES):
            code = reserved or issuer.new_code()
            key = (self._keys.ticket(code),)
            fields = self._ticket_fields(code, claim)
            if reserved or await self._fast.evalsha(redis_lua.CREATE_TICKET, key, fields):
                return code, issuer.payload(code, seat.facility_id, seat.day, seat.session_id, dose)
        # Only a tiny code space (misconfigured alphabet/length) gets here.
        raise RuntimeError(f"no free ticket code after {MAX_CODE_TRIES} tries")

    async def _confirm(
        self,
        claim: _Claim,
        code: str,
        dose: int,
        payload: str,
        stale: list[Step],
        old: str,
        epoch: int,
    ) -> list[str]:
        """Round trip 2: complete the ticket, confirm, forget the intent."""
        k, seat, nik = self._keys, claim.request.seat, claim.nik
        first: list[tuple[str, ...]] = [
            ("HSET", k.ticket(code), "state", "active", "dose", dose, "payload", payload)
        ]
        if old:  # the seat a reschedule replaces: intent first, as for a cancel
            # Due after our claim expires: the sweeper keeps the seat if we never confirm.
            first.append(("ZADD", k.pending_releases(), claim.deadline_ms + GRACE_MS, old))
        batch: list[Step] = [*stale]
        if self._spans_nodes:
            await self._before_confirming(claim, first, epoch)
        else:
            batch[:0] = first
        # The time the claim is checked against is read now, after the writes above waited
        # (a WAIT can take seconds): a claim that expired meanwhile is refused here. It may
        # still land late (queued behind another WAIT): the repair drops an expired claim
        # before it gives the seat back (EXPIRE_CLAIM), so that one is refused too.
        now = self._clock()
        line = history.booked(now, code, seat.facility_id, seat.day, seat.session_id, dose)
        args = (claim.claim_id, int(now * 1000), code, payload, line, nik)
        at = len(batch)
        batch.append(Call(redis_lua.CONFIRM, (k.booking(nik), k.registrant_status(nik)), args))
        if not self._spans_nodes:  # on a cluster book() forgets it once the booking is safe
            batch.append(self._forget(claim))
        reply: list[str] = (await self._ordered(batch))[at]
        return reply

    async def _before_confirming(
        self, claim: _Claim, writes: list[tuple[str, ...]], epoch: int
    ) -> None:
        """On a cluster, what lives on other masters reaches a replica before the booking
        becomes active, in one WAIT per master: the ticket (usable before the booking), a
        reschedule's intent, and the seat taken in round trip 1 (a booking confirmed on a
        seat a failover then lost would be re-confirmed on retry without taking one)."""
        await self._fast.batch(list(writes))
        seat_keys = self._seats.seat_keys(claim.request.seat.facility_id, claim.day)
        await self._fast.wait_replicas(*(w[1] for w in writes), *seat_keys, since=epoch)

    def _forget(self, claim: _Claim) -> Step:
        return ("ZREM", self._keys.pending_releases(), claim.intent)

    async def _give_up(self, claim: _Claim, code: str) -> None:
        """The claim was lost before confirming: the ticket is void, the seat goes back."""
        fid = claim.request.seat.facility_id
        await self._ordered(
            [
                ("HSET", self._keys.ticket(code), "state", TicketState.CANCELLED.value),
                *self._give_back_cmds(fid, claim.day, claim.nik, claim.claim_id),
            ]
        )

    async def _give_back_replaced(self, nik: str, confirm: list[str]) -> str:
        """A reschedule replaced a booking: its seat goes back, its ticket is cancelled.
        Returns the replaced booking's facility ("" when nothing was replaced)."""
        old_fid, old_day, old_claim, old_code = confirm[1:5]
        if not old_claim:
            return ""
        await self._ordered(
            [
                *self._give_back_cmds(old_fid, old_day, nik, old_claim),
                ("HSET", self._keys.ticket(old_code), "state", TicketState.CANCELLED.value),
            ]
        )
        return old_fid
