"""Runs one blast campaign: takes recipients from Redis, submits, records outcomes.

Results of submit_sm_resp are collected in memory and written in batches (one
Lua call per kind per flush, see smpp/blast_results.py) so Redis is not a round
trip per message; at most one window of recipients is ever unrecorded, which is
the delivery guarantee (at least once, at most one window re-sent per crash).
Only one process sends a campaign at a time (a lease in Redis, renewed while
sending).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta

from smpp.blast_results import ResultBook
from smpp.campaign_store import CampaignStore
from smpp.mt import MtBuilder, Source
from smpp.pool import SmppPool
from smpp.recipients import RecipientSource, queue_entries, split_entry
from smpp.settings import BlastSettings
from smpp.templates import render

log = logging.getLogger(__name__)


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


class CampaignRunner:
    def __init__(
        self,
        store: CampaignStore,
        registry: RecipientSource,
        pool: SmppPool,
        mt: MtBuilder,
        settings: BlastSettings,
        *,
        message_id_base: str = "as_is",
        utc_offset_hours: float = 7.0,
    ) -> None:
        self.store = store
        self.registry = registry
        self.pool = pool
        self.mt = mt
        self.settings = settings
        self.id_base = message_id_base  # how submit_sm_resp ids are spelled
        self.utc_offset = utc_offset_hours
        self.owner = owner_id()
        self.source = Source(settings.sender_id, settings.sender_ton, settings.sender_npi)
        self.name = ""
        self.state = ""
        self.sent = 0

    # --- the run ----------------------------------------------------------------------

    async def materialize(self, name: str) -> int:
        camp = await self.store.get(name)
        if camp is None:
            raise LookupError(name)
        if camp.meta.get("materialized") == "1":
            return 0
        added = opted = 0
        async for entries, opted_out in queue_entries(
            self.registry, self.store.opted_out, camp.filters, camp.only_unregistered
        ):
            added += await self.store.add(name, entries)
            opted += opted_out
        await self.store.set_fields(name, materialized="1", opted_out=str(opted))
        log.info("campaign %s: %d recipients queued (%d opted out)", name, added, opted)
        return added

    async def run(self, name: str, stop: asyncio.Event | None = None) -> str:
        """Send campaign `name` until done, paused-and-stopped, cancelled or `stop` is set."""
        stop = stop or asyncio.Event()
        self.name = name
        while not await self.store.acquire(name, self.owner):
            log.info("campaign %s is being sent by another process; waiting", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5)
            if stop.is_set():
                return "stopped"
        results = ResultBook(
            self.store,
            name,
            sum(b.window for b in self.pool.binds),
            id_base=self.id_base,
            receipt_ttl=self.settings.receipt_ttl_seconds,
            max_attempts=self.settings.max_attempts,
        )
        flusher = asyncio.create_task(results.flusher())
        try:
            recovered = await self.store.recover(name)
            if recovered:
                log.warning(
                    "campaign %s: %d recipients were in flight at the last stop; "
                    "re-queued (no message id recorded)",
                    name,
                    recovered,
                )
            await self.materialize(name)
            camp = await self.store.get(name)
            if camp is not None and not camp.meta.get("started"):
                await self.store.set_fields(name, started=str(time.time()))
            return await self._loop(name, stop, results)
        finally:
            await self._drain(results)
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await results.flush()
            # Whatever is still in flight was never answered: safe to queue again.
            await self.store.recover(name)
            await self.store.set_fields(name, rate="0")
            await self.store.release(name, self.owner)

    async def _drain(self, results: ResultBook, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while results.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def _watch(self, name: str) -> None:
        """Every half second: the campaign's state (pause/cancel), the lease, the rate."""
        rate_t, sent_mark = time.monotonic(), 0
        while True:
            camp = await self.store.get(name)
            state = camp.state if camp else "cancelled"
            if state == "running" and in_quiet_hours(self.settings.quiet_hours, self.utc_offset):
                state = "quiet"
            self.state = state
            await self.store.renew(name, self.owner)
            now = time.monotonic()
            rate = (self.sent - sent_mark) / (now - rate_t) if state == "running" else 0.0
            rate_t, sent_mark = now, self.sent
            await self.store.set_fields(name, rate=f"{rate:.1f}")
            await asyncio.sleep(0.5)

    async def _loop(self, name: str, stop: asyncio.Event, results: ResultBook) -> str:
        template = (await self.store.get(name)).template  # type: ignore[union-attr]
        keyword, short_code = self.settings.keyword, self.settings.short_code
        self.state = ""
        watcher = asyncio.create_task(self._watch(name))
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
                batch = await self.store.take(name, self.settings.batch_size)
                if not batch:
                    await self._drain(results)
                    await results.flush()
                    progress = await self.store.progress(name)
                    if progress and not progress["queued"] and not progress["in_flight"]:
                        await self.store.set_fields(name, state="done", finished=str(time.time()))
                        return "done"
                    await asyncio.sleep(0.1)
                    continue
                await self._send_batch(name, batch, (template, keyword, short_code), stop, results)
            return "stopped"
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _send_batch(
        self,
        name: str,
        batch: list[str],
        texts: tuple[str, str, str],
        stop: asyncio.Event,
        results: ResultBook,
    ) -> None:
        template, keyword, short_code = texts
        rows = [split_entry(e) for e in batch]
        flags = await self.store.opted_out([r[1] for r in rows])
        opted = [(r[0], "o") for r, f in zip(rows, flags, strict=True) if f]
        if opted:
            await self.store.finish(name, "opted_out", opted)
        for index, ((nik, phone, first), flag) in enumerate(zip(rows, flags, strict=True)):
            if flag:
                continue
            if self.state != "running" or stop.is_set():
                # Paused or stopping mid-batch: the rest goes back to the front of the queue.
                await self.store.unsend(name, batch[index:])
                return
            text = render(
                template, first_name=first, nik=nik, keyword=keyword, short_code=short_code
            )
            enc = self.mt.split(text)
            if len(enc.parts) == 1:
                builds = [self.mt.build_single(phone, self.source, enc)]
            else:
                builds = await self.mt.build(phone, text, self.source)
            await results.wait_for_room()
            token = results.submitted(nik, len(builds))
            for build in builds:
                await self.pool.submit(build, token, results.on_result)
            self.sent += 1
