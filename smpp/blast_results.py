"""The answers of a blast's submits, kept until they are written to Redis, and the bound.

A recipient is "unrecorded" from its submit until its answer (accepted with a
message id, temporary or permanent error) is written to the campaign in Redis.
:meth:`ResultBook.wait_for_room` keeps that number at or below the binds' total
window: a crash can then leave at most one window of recipients whose SMS the SMSC
took without Redis knowing, and only those are sent again (at least once, at most
one window re-sent per crash).

A multipart recipient whose parts meet a temporary error is not put back in the
queue (sent again whole, under a new concatenation reference, the handset would get
its accepted parts twice): the refused parts go again, built once, while it stays in
flight and unrecorded, up to ``max_attempts`` rounds, each a little later than the one
before (as the outbox's retries), so an SMSC's passing fault does not use them all up.

A flush is one round trip on the lean client: the message id -> recipient keys
(with the submit time, for the receipt latency), then one script call per kind of
outcome, then the release of the batches it completes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from core.aio import run_held
from smpp import codec
from smpp.campaign_batches import CampaignBatches, Groups
from smpp.mt import Build, PartSet
from smpp.pool import SmppPool
from smpp.receipts import normalise_id
from smpp.settings import MAX_RETRY_DELAY, RETRY_DELAY

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.02
ROK = codec.ESME_ROK


class Parts(PartSet):
    """A multipart recipient's parts (built once: one concatenation reference) and answers."""

    __slots__ = ("batch", "nik")

    def __init__(self, nik: str, batch: str, builds: list[Build]) -> None:
        super().__init__(builds)
        self.nik, self.batch = nik, batch


@dataclass(slots=True)
class Outcomes:
    """Answers not yet written to Redis."""

    ok: list[tuple[str, str, str]] = field(default_factory=list)  # (batch, nik, message id)
    more_mids: list[tuple[str, str]] = field(default_factory=list)  # (id, nik): parts 2..n
    retry: list[tuple[str, str, str]] = field(default_factory=list)  # (batch, nik, reason)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (batch, nik, f:reason)
    opted: list[tuple[str, str, str]] = field(default_factory=list)  # (batch, nik, "o")
    settled: dict[str, int] = field(default_factory=dict)  # batch -> recorded by other means
    answers: int = 0  # answers among them (a flush is due at half the bound)

    def __bool__(self) -> bool:
        return bool(self.ok or self.retry or self.failed or self.opted or self.settled)

    def recorded(self) -> int:
        """Submitted recipients these outcomes record."""
        return len(self.ok) + len(self.retry) + len(self.failed)

    def put_back(self, newer: Outcomes) -> Outcomes:
        """These (a failed write) before the ones collected since."""
        merged = Outcomes(
            self.ok + newer.ok,
            self.more_mids + newer.more_mids,
            self.retry + newer.retry,
            self.failed + newer.failed,
            self.opted + newer.opted,
            dict(self.settled),
            self.answers + newer.answers,
        )
        for batch, n in newer.settled.items():
            merged.settled[batch] = merged.settled.get(batch, 0) + n
        return merged


class ResultBook:
    def __init__(
        self,
        batches: CampaignBatches,
        bound: int,
        *,
        pool: SmppPool,
        id_base: str,
        receipt_ttl: int,
        max_attempts: int,
    ) -> None:
        self.batches, self.bound, self.pool = batches, max(bound, 1), pool
        self.id_base = id_base  # how submit_sm_resp ids are spelled
        self.receipt_ttl, self.max_attempts = receipt_ttl, max_attempts
        self._out = Outcomes()
        self._flush_now = asyncio.Event()
        self._outstanding = 0  # submitted, not every answer in
        self._unrecorded = 0  # submitted, answer not in Redis yet
        self._room = asyncio.Event()
        self._resends: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """Recipients whose answers have not all arrived."""
        return self._outstanding

    async def wait_for_room(self) -> None:
        """Block while the bound of unrecorded recipients is reached."""
        while self._unrecorded >= self.bound:
            self._room.clear()
            self._flush_now.set()
            await self._room.wait()

    def submitted(self) -> None:
        """Count one recipient as sent (call before its submits are written)."""
        self._outstanding += 1
        self._unrecorded += 1

    def opted_out(self, batch: str, niks: list[str]) -> None:
        self._out.opted += [(batch, nik, "o") for nik in niks]

    def settle(self, batch: str, count: int) -> None:
        """Recipients of `batch` recorded outside the book (put back in the queue)."""
        settled = self._out.settled
        settled[batch] = settled.get(batch, 0) + count

    def on_single(self, token: tuple[str, str], status: int, message_id: str) -> None:
        """The submit_sm_resp of a one-part recipient (token: batch, nik)."""
        batch, nik = token
        if status == ROK:
            self._out.ok.append((batch, nik, message_id))
        else:
            self._failure(batch, nik, status)
        self._answer()

    async def send_parts(self, parts: Parts) -> None:
        """Submit the parts of a multipart recipient the SMSC has not accepted yet."""
        for index in parts.start_round():
            await self.pool.submit(parts.builds[index], (parts, index), self.on_part)

    async def send_parts_later(self, parts: Parts) -> None:
        await asyncio.sleep(min(RETRY_DELAY * parts.rounds, MAX_RETRY_DELAY))
        await self.send_parts(parts)

    def on_part(self, token: tuple[Parts, int], status: int, message_id: str) -> None:
        """The submit_sm_resp of one part of a multipart recipient."""
        parts, index = token
        if not parts.answer(index, status, message_id):
            return
        batch, nik, status = parts.batch, parts.nik, parts.status
        if not status:
            mids = parts.mids()
            self._out.ok.append((batch, nik, mids[0]))
            self._out.more_mids += [(mid, nik) for mid in mids[1:]]
        elif codec.is_temporary(status) and self.batches.leases.holds(batch):
            # Back in the queue it would go whole with a new reference: the handset would
            # get the accepted parts twice. The refused ones go again, after a delay that
            # grows with the rounds (and the bind's throttle pause, if any); the recipient
            # stays in flight meanwhile.
            if parts.rounds < self.max_attempts:
                run_held(self._resends, self.send_parts_later(parts))
                return
            self._out.failed.append((batch, nik, "f:" + codec.status_name(status)))
        else:
            self._failure(batch, nik, status)
        self._answer()

    def stop_resends(self) -> None:
        """At the end of the run: parts still waiting to go again stay unsent (their
        recipients are in flight: the runner puts them back in the queue)."""
        for task in list(self._resends):
            task.cancel()

    def _failure(self, batch: str, nik: str, status: int) -> None:
        if codec.is_temporary(status):
            self._out.retry.append((batch, nik, codec.status_name(status)))
        else:
            self._out.failed.append((batch, nik, "f:" + codec.status_name(status)))

    def _answer(self) -> None:
        self._outstanding -= 1
        self._out.answers += 1
        # Flush early enough that the sender rarely waits for room under the bound.
        if self._out.answers >= self.bound // 2:
            self._flush_now.set()

    async def flush(self) -> None:
        """Write everything collected so far in one round trip; kept in memory on failure."""
        out = self._out
        if not out:
            return
        self._out = Outcomes()
        try:
            await self._write(out)
        except BaseException:
            self._out = out.put_back(self._out)
            raise
        self._unrecorded -= out.recorded()
        self._room.set()

    async def _write(self, out: Outcomes) -> None:
        b = self.batches
        counts = dict(out.settled)
        groups: list[Groups] = []
        for rows in (out.ok, out.retry, out.failed, out.opted):
            grouped: Groups = {}
            for batch, nik, value in rows:
                grouped.setdefault(batch, []).extend((nik, value))
                counts[batch] = counts.get(batch, 0) + 1
            groups.append(grouped)
        target = f"c\t{b.name}\t"
        stamp = f"\t{time.time():.2f}"  # the submit time, to within the flush interval
        key, base, ttl = b.keys.sms_message_id, self.id_base, self.receipt_ttl
        mids = [(mid, nik) for _, nik, mid in out.ok] + out.more_mids
        items: list[Any] = [
            ("SET", key(normalise_id(mid, base)), target + nik + stamp, "EX", ttl)
            for mid, nik in mids
        ]
        items += b.outcome_calls(*groups, max_attempts=self.max_attempts)
        complete = b.leases.completed_by(counts)
        if complete:
            items.append(b.release_call(complete))
        await b.lean.batch(items)
        epoch = b.lean.epoch  # the connections the batch went over (see wait_replicas)
        # [redis] wait_replicas: a failover must not forget that these were sent (the
        # recipients would be sent again); on too few replicas the flush is retried.
        await b.lean.wait_replicas(b.state, *(item[1] for item in items[: len(mids)]), since=epoch)
        b.leases.recorded(counts)

    async def flusher(self) -> None:
        """Flush every FLUSH_INTERVAL, or sooner when asked; Redis hiccups are retried."""
        loop = asyncio.get_running_loop()
        while True:
            if not self._flush_now.is_set():
                timer = loop.call_later(FLUSH_INTERVAL, self._flush_now.set)
                await self._flush_now.wait()
                timer.cancel()
            self._flush_now.clear()
            try:
                await self.flush()
            except (RedisError, OSError) as exc:  # kept in memory; written on the next try
                log.warning(
                    "campaign %s: recording answers failed (%s); retrying", self.batches.name, exc
                )
                await asyncio.sleep(0.5)
