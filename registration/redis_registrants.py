"""Registrants and verification in Redis (:class:`RegistrantStore`).

Verification is one Lua script on the phone's keys (all tagged ``{p:<phone>}``):
locked? listed? which NIK of the household ends in these digits? On a match one
more batch reads the registrant's four hashes (worker record, screening, booking,
status): they live in another Cluster slot (``{w:<nik>}``), which a script on the
phone's keys may not touch. Both go over the lean client (:mod:`core.redis_lean`).
The record must hold the phone asked about: the index is written apart from it (another
slot), and an entry left behind by a stopped import must not let an old phone, perhaps
someone else's by now, reach the worker (checked in the read that happens anyway).
Recording a screening is one script on the registrant's keys. The blast's walk
over every listed worker (:meth:`RedisRegistrants.listed`) uses redis-py.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import date
from functools import partial

import redis.asyncio as aioredis

from core.redis_lean import Call, FastRedis, as_dict
from registration import redis_lua
from registration.keys import RegistryKeys
from registration.models import HealthWorker, ScreeningOutcome, ScreeningResult, VerifyOutcome
from registration.records import day_key, parse_day, screening_from, ticket_from, worker_from
from registration.redis_facilities import RedisFacilities
from registration.stores import (
    ListedWorker,
    Lockout,
    RegistrantRecord,
    ScreeningEntry,
    ScreeningStored,
    VerifyReply,
)

WORKER_FIELDS = ("full_name", "phone", "profession", "facility_id")
# Stale entries one verify removes before it answers "not listed" (each costs a round
# trip; more than one on a phone at once takes several stopped imports).
STALE_TRIES = 3


def record_from(replies: list[list[str]]) -> RegistrantRecord | None:
    """The four hashes (worker, screening, booking, status) as a record."""
    worker = worker_from(as_dict(replies[0]))
    return _record(replies, worker) if worker is not None else None


def _record(replies: list[list[str]], worker: HealthWorker) -> RegistrantRecord:
    _, raw_screening, raw_booking, raw_status = map(as_dict, replies)
    return RegistrantRecord(
        worker=worker,
        screening=screening_from(raw_screening),
        ticket=ticket_from({**raw_booking, "nik": worker.nik}),
        dose2_due=parse_day(raw_status.get("dose2_due")),
        history=[line for line in raw_status.get("history", "").split("\n") if line],
    )


def _refused(kind: str, value: str | int) -> VerifyReply:
    if kind in ("locked", "locked_now"):
        return VerifyReply(
            VerifyOutcome.LOCKED, locked_ms=int(value), locked_now=kind == "locked_now"
        )
    if kind == "wrong":
        return VerifyReply(VerifyOutcome.WRONG_DIGITS, wrong_attempts=int(value))
    return VerifyReply(VerifyOutcome.NOT_LISTED)


class RedisRegistrants:
    def __init__(
        self,
        redis: aioredis.Redis,
        fast: FastRedis,
        keys: RegistryKeys,
        facilities: RedisFacilities,
        clock: Callable[[], float],
    ) -> None:
        self._redis, self._fast, self._keys = redis, fast, keys
        self._facilities, self._clock = facilities, clock

    def _record_reads(self, nik: str) -> list[tuple[str, str]]:
        """The four reads, all in the ``{w:<nik>}`` slot; the worker record comes first."""
        k = self._keys
        return [
            ("HGETALL", k.worker(nik)),
            ("HGETALL", k.screening(nik)),
            ("HGETALL", k.booking(nik)),
            ("HGETALL", k.registrant_status(nik)),
        ]

    async def verify(
        self, phone: str, digits: str, lockout: Lockout, answer_id: str = ""
    ) -> VerifyReply:
        """The script's answer; on a match the record, read in one more round trip. A match
        whose record does not hold this phone (or is gone) is an index entry an import left
        behind when it stopped between its writes (see registration.redis_import_writes;
        versions before it left the old phone): ignored, removed, and the script asked
        again in the same round trip, so the answer is what it would be without the entry.
        """
        k = self._keys
        check = Call(
            redis_lua.VERIFY,
            (k.phone_index(phone), k.nik_attempts(phone), k.nik_lock(phone)),
            (
                digits,
                lockout.max_attempts,
                lockout.seconds,
                int(self._clock() * 1000),
                answer_id or secrets.token_hex(6),
            ),
        )
        calls: list[tuple[str, ...] | Call] = [check]
        for _ in range(STALE_TRIES):
            kind, value = (await self._fast.batch(calls))[-1]
            if kind != "ok":
                return _refused(kind, value)
            replies = await self._fast.execute_many(*self._record_reads(value))
            worker = worker_from(as_dict(replies[0]))
            if worker is not None and worker.phone == phone:
                return VerifyReply(
                    VerifyOutcome.OK, worker=worker, record=partial(_record, replies, worker)
                )
            calls = [("SREM", k.phone_index(phone), value), check]  # one slot: {p:<phone>}
        return VerifyReply(VerifyOutcome.NOT_LISTED)

    async def worker(self, nik: str) -> HealthWorker | None:
        return worker_from(as_dict(await self._fast.execute("HGETALL", self._keys.worker(nik))))

    async def record(self, nik: str) -> RegistrantRecord | None:
        return record_from(await self._fast.execute_many(*self._record_reads(nik)))

    async def niks_by_phone(self, phone: str) -> list[str]:
        return sorted(await self._fast.execute("SMEMBERS", self._keys.phone_index(phone)))

    async def facility_of(self, nik: str) -> tuple[str, str | None]:
        facility_id, version = await self._fast.execute_many(
            ("HGET", self._keys.worker(nik), "facility_id"), self._facilities.version_command()
        )
        return facility_id or "", version

    async def record_screening(
        self, nik: str, entry: ScreeningEntry, today: date
    ) -> ScreeningStored | None:
        k, result = self._keys, entry.result
        reply = await self._fast.evalsha(
            redis_lua.RECORD_SCREENING,
            (k.screening(nik), k.worker(nik), k.registrant_status(nik), k.booking(nik)),
            (
                result.outcome.value,
                result.reason_id,
                day_key(result.retry_on) if result.retry_on else "",
                json.dumps({q: bool(a) for q, a in entry.answers.items()}, sort_keys=True),
                entry.at,
                day_key(today),
                entry.history_line,
            ),
        )
        if reply[0] == "not_listed":
            return None
        if reply[0] == "booked":
            return ScreeningStored(previous="", facility_id="", booked=True)
        if reply[0] == "done":
            return ScreeningStored(previous="", facility_id="", complete=True)
        if reply[0] == "kept":
            kept = ScreeningResult(ScreeningOutcome.DEFERRED, reply[1], parse_day(reply[2]))
            return ScreeningStored(previous="deferred", facility_id="", kept=kept)
        return ScreeningStored(reply[0], reply[1], dose2_due=parse_day(reply[2]))

    async def listed(self, *, with_booking: bool, batch: int) -> AsyncIterator[list[ListedWorker]]:
        """SSCAN over every listed NIK; one pipelined read of the records per batch."""
        cursor = 0
        while True:
            cursor, niks = await self._redis.sscan(self._keys.all_workers(), cursor, count=batch)
            if niks:
                yield await self._read_listed(niks, with_booking)
            if cursor == 0:
                return

    async def _read_listed(self, niks: list[str], with_booking: bool) -> list[ListedWorker]:
        # With the booking: its state and the doses done (a booking cancelled after a
        # dose was checked in still means "has used a booking").
        step = 3 if with_booking else 1
        async with self._redis.pipeline(transaction=False) as pipe:
            for nik in niks:
                pipe.hmget(self._keys.worker(nik), *WORKER_FIELDS)
                if with_booking:
                    pipe.hget(self._keys.booking(nik), "state")
                    pipe.hget(self._keys.registrant_status(nik), "doses_done")
            rows = await pipe.execute()
        found = []
        for i, nik in enumerate(niks):
            full_name, phone, profession, facility_id = rows[i * step]
            state, doses = rows[i * step + 1 : i * step + 3] if with_booking else ("", "0")
            found.append(
                ListedWorker(
                    nik,
                    full_name or "",
                    phone or "",
                    profession or "",
                    facility_id or "",
                    state or "",
                    int(doses) if (doses or "").isdigit() else 0,
                )
            )
        return found
