"""Delivery receipts, recorded in batches: the campaign recipient's final state, the
campaign's latency buckets, the outbox's counters and the Prometheus metrics.

Receipts arrive at blast speed, so they are written in batches (one round trip to
find the messages, one to update them) on the lean client. A receipt can overtake
the record of its own submit (the SMSC answers the submit, the handset is quick,
our answers are flushed every 20 ms): one whose message id is not known yet, or
whose recipient is not recorded as submitted yet, is tried again a second later,
for a while, after its deliver_sm has been answered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from core import metrics
from core.redis_lean import FastRedis
from smpp import codec, receipt_latency
from smpp.campaign_batches import receipt_call
from smpp.keys import SmsKeys
from smpp.receipts import Receipt, parse_receipt

log = logging.getLogger(__name__)

BATCH = 500
RETRY_SECONDS = 1.0
MAX_TRIES = 10
MAX_WAITING = 100_000  # receipts kept for a retry at most (memory bound)
# receipt state -> (recipient state, campaign counter)
COUNTERS = {"delivered": ("d", "delivered"), "expired": ("x", "expired")}


@dataclass(slots=True)
class _Item:
    receipt: Receipt
    arrived: float  # unix time
    tries: int = 0
    observed: bool = False  # its latency is in the histogram


class ReceiptBook:
    def __init__(self, lean: FastRedis, keys: SmsKeys, receipt_id_base: str) -> None:
        self.lean, self.keys, self.id_base = lean, keys, receipt_id_base
        self._queue: list[tuple[_Item | None, asyncio.Future[None] | None]] = []
        self._task: asyncio.Task[None] | None = None
        self._later: list[_Item] = []  # waiting for a retry
        self._timer: asyncio.TimerHandle | None = None
        self._by_state = {s: metrics.RECEIPTS.labels(s) for s in ("delivered", "expired", "failed")}

    async def on_receipt(self, sm: codec.ShortMessage) -> None:
        """Queue the receipt for the next batch and wait until it is (first) recorded."""
        receipt = parse_receipt(sm, self.id_base)
        item = None
        if receipt is not None and receipt.state != "enroute":
            self._by_state[receipt.state].inc()
            item = _Item(receipt, time.time())
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, fut))
        self._kick()
        await fut

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
            try:
                await self._record(batch)
            except Exception as exc:
                for _, fut in batch:
                    if fut is not None and not fut.done():
                        fut.set_exception(exc)
            else:
                for _, fut in batch:
                    if fut is not None and not fut.done():
                        fut.set_result(None)

    async def _record(self, batch: list[tuple[_Item | None, asyncio.Future[None] | None]]) -> None:
        items = [item for item, _ in batch if item is not None]
        fresh = sum(1 for _, fut in batch if fut is not None)
        lookups: list[tuple[Any, ...]] = [
            ("GET", self.keys.sms_message_id(it.receipt.message_id)) for it in items
        ]
        if fresh:
            lookups.append(("HINCRBY", self.keys.sms_stats(), "receipts", fresh))
        targets = (await self.lean.execute_many(*lookups))[: len(items)] if lookups else []
        later: list[_Item] = []
        updates: list[Any] = []
        recorded: list[_Item] = []
        outbox: dict[str, int] = {}
        for item, target in zip(items, targets, strict=True):
            if not target:
                later.append(item)
                continue
            fields = target.split("\t")
            kind, stamp = fields[0], fields[-1]
            bucket = self._latency(item, stamp if len(fields) == (4 if kind == "c" else 3) else "")
            if kind != "c":
                outbox[item.receipt.state] = outbox.get(item.receipt.state, 0) + 1
                continue
            state, counter = COUNTERS.get(
                item.receipt.state, (f"f:{item.receipt.stat or 'UNDELIV'}", "failed")
            )
            updates.append(receipt_call(self.keys, fields[1], fields[2], state, counter, bucket))
            recorded.append(item)
        for state, n in outbox.items():
            updates.append(("HINCRBY", self.keys.sms_stats(), f"outbox_{state}", n))
        answers = await self.lean.batch(updates) if updates else []
        later += [it for it, answer in zip(recorded, answers, strict=False) if answer == 0]
        self._retry_later(later)

    def _latency(self, item: _Item, stamp: str) -> str:
        """The latency bucket (as a string; "" when the submit time is unknown)."""
        try:
            seconds = item.arrived - float(stamp)
        except ValueError:
            return ""
        if not item.observed:
            metrics.RECEIPT_SECONDS.observe(max(seconds, 0.0))
            item.observed = True
        return str(receipt_latency.bucket(seconds))

    def _retry_later(self, items: list[_Item]) -> None:
        for item in items:
            item.tries += 1
            if item.tries < MAX_TRIES and len(self._later) < MAX_WAITING:
                self._later.append(item)
        if self._later and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(RETRY_SECONDS, self._requeue)

    def _requeue(self) -> None:
        self._timer = None
        self._queue += [(item, None) for item in self._later]
        self._later = []
        self._kick()

    async def settle(self) -> None:
        """Look up once more, now, the receipts waiting for a retry (at a clean stop, after
        the blast's last answers are written: they were answered to the SMSC already)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        later, self._later = self._later, []
        if later:
            await self._record([(item, None) for item in later])
