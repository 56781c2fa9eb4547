"""Runs one blast campaign in one process: takes batches of recipients from Redis,
submits, records outcomes. Several processes may run the same campaign at once.

Each batch is taken under a lease (smpp/campaign_batches.py) renewed every half
second; a batch whose sender died is put back in the queue by another sender once
its lease has expired, so no live sender ever sends a recipient another live
sender holds. Answers are collected in memory and written in batches
(smpp/blast_results.py): at most one window of recipients is ever unrecorded,
which is the delivery guarantee (at least once, at most one window re-sent per
crash).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from redis.exceptions import RedisError

from core.redis_lean import FastRedis
from smpp.blast_results import Parts, ResultBook
from smpp.campaign_batches import CampaignBatches
from smpp.campaign_store import CampaignStore
from smpp.mt import MtBuilder, Source
from smpp.pool import SmppPool
from smpp.recipients import RecipientSource, queue_entries, split_entry
from smpp.settings import BlastSettings
from smpp.templates import BlastText

log = logging.getLogger(__name__)
T = TypeVar("T")
HEARTBEAT_SECONDS = 0.5


def in_quiet_hours(spec: str, utc_offset_hours: float, now: datetime | None = None) -> bool:
    """True inside "HH:MM-HH:MM" local time (may wrap past midnight); "" = never."""
    if not spec.strip():
        return False
    start_s, _, end_s = spec.partition("-")
    now = (now or datetime.now(UTC)) + timedelta(hours=utc_offset_hours)
    minutes = now.hour * 60 + now.minute

    def parse(text: str) -> int:
        h, _, m = text.strip().partition(":")
        return int(h) * 60 + int(m or 0)

    start, end = parse(start_s), parse(end_s)
    return start <= minutes < end if start <= end else minutes >= start or minutes < end


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


REDIS_RETRIES = 120  # a Redis hiccup (a cluster failover: a second or two) is waited out


async def patiently(what: str, call: Callable[[], Awaitable[T]]) -> T:
    """``call()`` again every half second while Redis is unreachable (steps safe to repeat:
    reads, TAKE whose lost batch comes back when its lease expires, an idempotent flush)."""
    for attempt in range(REDIS_RETRIES):
        try:
            return await call()
        except (RedisError, OSError) as exc:
            if attempt == REDIS_RETRIES - 1:
                raise
            log.warning("blast: %s failed (%s); retrying", what, exc)
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


class CampaignRunner:
    def __init__(
        self,
        store: CampaignStore,
        registry: RecipientSource,
        pool: SmppPool,
        mt: MtBuilder,
        settings: BlastSettings,
        *,
        lean: FastRedis,
        message_id_base: str = "as_is",
        utc_offset_hours: float = 7.0,
    ) -> None:
        self.store, self.registry, self.pool, self.mt = store, registry, pool, mt
        self.settings = settings
        self.lean = lean
        self.id_base = message_id_base  # how submit_sm_resp ids are spelled
        self.utc_offset = utc_offset_hours
        self.owner = owner_id()
        self.source = Source(settings.sender_id, settings.sender_ton, settings.sender_npi)
        self.name = ""
        self.state = ""
        self.sent = 0

    def batches(self, name: str) -> CampaignBatches:
        lease = self.settings.lease_seconds
        return CampaignBatches(self.lean, self.store.keys, name, self.owner, lease)

    async def materialize(self, name: str, batches: CampaignBatches | None = None) -> int:
        """Queue the campaign's recipients (once: one sender does it, the others wait)."""
        batches = batches or self.batches(name)
        while True:
            camp = await self.store.get(name)
            if camp is None:
                raise LookupError(name)
            if camp.meta.get("materialized") == "1":
                return 0
            if await self.store.claim_materializer(name, self.owner):
                break
            await asyncio.sleep(0.5)
        added = opted = 0
        try:
            async for entries, opted_out in queue_entries(
                self.registry, self.store.opted_out, camp.filters, camp.only_unregistered
            ):
                added += await batches.add(entries)
                opted += opted_out
                await self.store.claim_materializer(name, self.owner)  # still alive
            await self.store.set_fields(name, materialized="1", opted_out=str(opted))
        finally:
            await self.store.release_materializer(name, self.owner)
        log.info("campaign %s: %d recipients queued (%d opted out)", name, added, opted)
        return added

    async def run(
        self, name: str, stop: asyncio.Event | None = None, *, takeover: bool = False
    ) -> str:
        """Send campaign `name` until done, paused-and-stopped, cancelled or `stop` is set.

        `takeover` puts every batch other senders hold back in the queue at once (an
        operator's word that they are dead), instead of waiting for their leases."""
        stop = stop or asyncio.Event()
        self.name = name
        batches = self.batches(name)
        window = sum(b.window for b in self.pool.binds if b.carries_sms)
        results = ResultBook(
            batches,
            window,
            pool=self.pool,
            id_base=self.id_base,
            receipt_ttl=self.settings.receipt_ttl_seconds,
            max_attempts=self.settings.max_attempts,
        )
        flusher = asyncio.create_task(results.flusher())
        try:
            requeued = await batches.reclaim("all" if takeover else "orphans")
            if requeued:
                log.warning(
                    "campaign %s: %d recipients in flight with no live sender re-queued",
                    name,
                    requeued,
                )
            await self.materialize(name, batches)
            camp = await self.store.get(name)
            if camp is not None and not camp.meta.get("started"):
                await self.store.set_fields(name, started=str(time.time()))
            return await self._loop(batches, stop, results)
        finally:
            await self._drain(results)
            results.stop_resends()
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await patiently("recording answers", results.flush)
            # Whatever of ours is still in flight was never answered: safe to queue again.
            await batches.leave()

    async def _drain(self, results: ResultBook, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while results.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def _watch(self, batches: CampaignBatches) -> None:
        """Every half second: the campaign's state (pause/cancel), our leases (renewed),
        expired leases of others (reclaimed), our rate (published)."""
        rate_t, sent_mark = time.monotonic(), 0
        while True:
            now = time.monotonic()
            rate = (self.sent - sent_mark) / (now - rate_t) if self.state == "running" else 0.0
            rate_t, sent_mark = now, self.sent
            try:
                state, requeued = await batches.heartbeat(rate, self.sent)
            except (RedisError, OSError) as exc:  # leases lapse; sending stops by itself
                log.warning("campaign %s: heartbeat failed (%s)", batches.name, exc)
            else:
                if state == "running" and in_quiet_hours(
                    self.settings.quiet_hours, self.utc_offset
                ):
                    state = "quiet"
                self.state = state
                if requeued:
                    log.warning(
                        "campaign %s: %d recipients of a sender whose lease expired re-queued",
                        batches.name,
                        requeued,
                    )
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _loop(
        self, batches: CampaignBatches, stop: asyncio.Event, results: ResultBook
    ) -> str:
        name = batches.name
        camp = await self.store.get(name)
        assert camp is not None
        text = BlastText(camp.template, self.settings.keyword, self.settings.short_code)
        self.state = ""
        watcher = asyncio.create_task(self._watch(batches))
        try:
            while not stop.is_set():
                if not self.state:
                    await asyncio.sleep(0.01)
                    continue
                if self.state in ("cancelled", "done"):
                    return self.state
                if self.state != "running":  # paused, or quiet hours
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 0.2)
                    continue
                batch, entries = await patiently("taking a batch", self._taker(batches))
                if entries:
                    await self._send_batch(batches, batch, entries, text, stop, results)
                    continue
                await self._drain(results)
                await patiently("recording answers", results.flush)
                if await patiently("finishing", lambda: self.store.finish_if_sent(name)):
                    return "done"
                await asyncio.sleep(0.1)  # other senders' batches are still in flight
            return "stopped"
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    def _taker(self, batches: CampaignBatches) -> Callable[[], Awaitable[tuple[str, list[str]]]]:
        size = self.settings.batch_size
        return lambda: batches.take(size)

    async def _send_batch(
        self,
        batches: CampaignBatches,
        batch: str,
        entries: list[str],
        text: BlastText,
        stop: asyncio.Event,
        results: ResultBook,
    ) -> None:
        rows = [split_entry(e) for e in entries]
        phones = [r[1] for r in rows]
        flags = await patiently("reading opt-outs", lambda: batches.opted_out(phones))
        opted = [r[0] for r, flag in zip(rows, flags, strict=True) if flag]
        if opted:
            results.opted_out(batch, opted)
        leases, pool, mt, source = batches.leases, self.pool, self.mt, self.source
        for index, (nik, phone, first) in enumerate(rows):
            if flags[index]:
                continue
            if self.state != "running" or stop.is_set() or not leases.holds(batch):
                # Paused, stopping or the lease lapsed: the rest goes back to the queue front
                # (only where the lease is still ours: the script checks).
                rest = [e for e, f in zip(entries[index:], flags[index:], strict=True) if not f]
                await batches.unsend(batch, rest)
                results.settle(batch, len(rest))
                return
            septets = text.septets(first, nik)
            single = mt.build_blast(phone, source, septets) if septets is not None else None
            await results.wait_for_room()
            results.submitted()
            if single is not None:
                token = (batch, nik)
                if not pool.try_submit(single, token, results.on_single):
                    await pool.submit(single, token, results.on_single)
            else:
                builds = mt.build(phone, text.render(first, nik), source)
                await results.send_parts(Parts(nik, batch, builds))
            self.sent += 1
