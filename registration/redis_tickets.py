"""Tickets, check-in, cancelling and repair in Redis (the rest of :class:`BookingStore`).

The registrant's booking hash is the truth; a ticket hash follows it (a lookup
compares the two). Cancelling records its intent first (``pending_releases``), so
that a crash before the seat is given back is repaired by :meth:`repair`, which a
server runs every minute or so (a cold path).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import redis.asyncio as aioredis

from core.redis_lean import Call, FastRedis, as_dict
from registration import history, redis_lua
from registration.keys import RegistryKeys
from registration.models import Ticket, TicketState
from registration.records import day_key, parse_day, ticket_from
from registration.redis_facilities import RedisFacilities
from registration.stores import CLAIM_GRACE_SECONDS, CheckInMark, CheckInReply

REPAIR_GRACE_MS = CLAIM_GRACE_SECONDS * 1000  # never race a claim or cancel still in flight
Step = tuple[Any, ...] | Call  # one entry of a lean-client batch: a command or a script call


class RedisTickets:
    def __init__(
        self,
        redis: aioredis.Redis,
        fast: FastRedis,
        keys: RegistryKeys,
        seats: RedisFacilities,
        clock: Callable[[], float],
    ) -> None:
        self._redis, self._fast, self._keys = redis, fast, keys
        self._seats, self._clock = seats, clock

    @property
    def _spans_nodes(self) -> bool:
        """On a Redis Cluster a batch's parts run on several masters in no set order."""
        return bool(getattr(self._fast, "spans_nodes", False))

    async def _durably(self, cmd: tuple[str, ...]) -> None:
        """One write, done (and on a replica, with [redis] wait_replicas) before what follows."""
        await self._fast.execute(*cmd)
        await self._fast.wait_replicas(cmd[1], since=self._fast.epoch)

    async def _ordered(self, steps: list[Step]) -> list[Any]:
        """A batch in which forgetting an intent (ZREM) runs after everything else, as it
        does on one connection; on a cluster that takes a second round trip."""
        pending = self._keys.pending_releases()
        last = [
            i for i, s in enumerate(steps) if isinstance(s, tuple) and s[:2] == ("ZREM", pending)
        ]
        if not self._spans_nodes or not last:
            return await self._fast.batch(steps)
        first = [i for i in range(len(steps)) if i not in last]
        replies: list[Any] = [None] * len(steps)
        for group in (first, last):
            for i, reply in zip(
                group, await self._fast.batch([steps[i] for i in group]), strict=True
            ):
                replies[i] = reply
        return replies

    def _give_back_cmds(self, fid: str, day: str, nik: str, claim_id: str) -> list[Step]:
        """Release a seat, then forget its intent (both idempotent; in this order)."""
        return [
            self._seats.release_call(fid, day, f"{nik}|{claim_id}"),
            ("ZREM", self._keys.pending_releases(), f"{fid}|{day}|{nik}|{claim_id}"),
        ]

    async def current(self, nik: str) -> Ticket | None:
        booking = as_dict(await self._fast.execute("HGETALL", self._keys.booking(nik)))
        return ticket_from({**booking, "nik": nik})

    async def ticket(self, code: str) -> Ticket | None:
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

    async def check_in(self, ticket: Ticket, dose2_due: date, today: date) -> CheckInReply:
        k, nik, now = self._keys, ticket.nik, self._clock()
        line = history.checked_in(now, ticket.code)
        reply = await self._fast.evalsha(
            redis_lua.CHECK_IN,
            (k.booking(nik), k.registrant_status(nik)),
            (ticket.code, day_key(dose2_due), line, day_key(today)),
        )
        if reply[0] == "used":
            return CheckInReply(CheckInMark.USED)
        if reply[0] == "too_early":
            return CheckInReply(CheckInMark.TOO_EARLY, parse_day(reply[1]))
        if reply[0] != "ok":
            return CheckInReply(CheckInMark.CANCELLED)
        used = ("HSET", k.ticket(ticket.code), "state", "used", "used_at", history.stamp(now))
        await self._fast.batch([used])
        return CheckInReply(CheckInMark.OK)

    async def cancel(self, nik: str, code: str = "", phone: str = "") -> Ticket | None:
        k = self._keys
        booking = as_dict(await self._fast.execute("HGETALL", k.booking(nik)))
        if booking.get("state") != TicketState.ACTIVE or code not in ("", booking.get("code")):
            return None  # nothing active, or not the ticket the caller was shown (moved since)
        fid, dkey = booking["fid"], booking["day"]
        claim_id, code = booking["claim"], booking["code"]
        member = f"{fid}|{dkey}|{nik}|{claim_id}"
        # Intent first: if we die after cancelling, the sweeper gives the seat back (after
        # the grace period, so that it never races this cancellation).
        now = self._clock()
        due = int(now * 1000) + REPAIR_GRACE_MS
        intent = ("ZADD", k.pending_releases(), due, member)
        cancel = Call(
            redis_lua.CANCEL,
            (k.booking(nik), k.registrant_status(nik), k.worker(nik)),
            (claim_id, history.cancelled(now, code), phone),
        )
        if self._spans_nodes:  # another master: the intent must land first
            await self._durably(intent)
            (done,) = await self._fast.batch([cancel])
        else:
            _, done = await self._fast.batch([intent, cancel])
        if not done:  # changed under us (moved, checked in, cancelled) or not this phone's: the
            return None  # sweeper drops the intent (or gives back a seat freed meanwhile)
        await self._ordered(
            [
                *self._give_back_cmds(fid, dkey, nik, claim_id),
                ("HSET", k.ticket(code), "state", TicketState.CANCELLED.value),
            ]
        )
        ticket = ticket_from({**booking, "nik": nik})
        return replace(ticket, state=TicketState.CANCELLED) if ticket else None

    async def repair(self, limit: int = 1000) -> int:
        """Give back seats of crashed claims and cancellations; returns how many were freed."""
        k = self._keys
        now_ms = int(self._clock() * 1000)
        due = await self._redis.zrangebyscore(
            k.pending_releases(), "-inf", now_ms, start=0, num=limit
        )
        freed = 0
        for member in due:
            fid, dkey, nik, claim_id = member.split("|")
            # Decided and the claim dropped in one step on the registrant's side: a check
            # read first would race a confirmation still on its way.
            verdict = await self._fast.evalsha(
                redis_lua.EXPIRE_CLAIM, (k.booking(nik),), (claim_id, now_ms, REPAIR_GRACE_MS)
            )
            if verdict == "in_flight":
                continue
            if verdict == "free":
                released = await self._ordered(self._give_back_cmds(fid, dkey, nik, claim_id))
                freed += int(bool(released[0]))
            else:  # kept: the seat is the booking's, only the intent goes
                await self._fast.execute("ZREM", k.pending_releases(), member)
        return freed
