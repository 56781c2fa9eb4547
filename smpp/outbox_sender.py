"""Sends the outbox stream (ticket SMS from USSD, replies to MO) and acknowledges an
entry only after the SMSC accepted every part of it.

Temporary failures are retried after a pause (the entry stays pending in the
consumer group, so a crash retries it on the next start); a retry sends only the
parts the SMSC refused, built once with the message's concatenation reference, so
no part reaches the handset twice. Permanent failures are acknowledged and copied
to the failed stream with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from core.aio import cancel_until_done, run_held
from core.digits import is_digits
from core.privacy import mask_phone
from smpp import codec
from smpp.keys import SmsKeys
from smpp.mt import Build, MtBuilder, PartSet, Source
from smpp.pool import SmppPool
from smpp.receipts import normalise_id
from smpp.settings import MAX_RETRY_DELAY, RETRY_DELAY, BlastSettings, SmppSettings, SmsSettings

log = logging.getLogger(__name__)

CONSUMER = "sms-worker"
REPLY_KINDS = frozenset({"reply", "optout"})


class _Job(PartSet):
    """One outbox entry being sent: its parts, built once, and which the SMSC took."""

    __slots__ = ("entry_id", "fields")

    def __init__(self, entry_id: str, fields: dict[str, str], builds: list[Build]) -> None:
        super().__init__(builds)
        self.entry_id = entry_id
        self.fields = fields


class OutboxSender:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: SmsKeys,
        pool: SmppPool,
        mt: MtBuilder,
        smpp: SmppSettings,
        sms: SmsSettings,
        blast: BlastSettings,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.pool = pool
        self.mt = mt
        self.smpp = smpp
        self.sms = sms
        self.group = sms.outbox_group
        self.sender_source = Source(blast.sender_id, blast.sender_ton, blast.sender_npi)
        self.number_source = Source(
            sms.service_number, sms.service_number_ton, sms.service_number_npi
        )
        self._done: asyncio.Queue[_Job] = asyncio.Queue()
        self._active: set[str] = set()
        # Set by the service before it cancels run(): redis-py's cluster client may turn
        # a cancellation inside a blocking XREADGROUP into an ordinary reply.
        self.stopping = False
        self._resends: set[asyncio.Task[None]] = set()
        self._retry_timers: dict[str, asyncio.TimerHandle] = {}  # by entry id
        self.sent = 0

    def source_for(self, kind: str) -> Source:
        if kind in REPLY_KINDS and self.sms.reply_from == "number":
            return self.number_source
        return self.sender_source

    async def ensure_group(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: exists already
            await self.redis.xgroup_create(
                self.keys.sms_outbox(), self.group, id="0", mkstream=True
            )

    async def run(self) -> None:
        """Read and submit (results are recorded by :meth:`finish_loop`, a separate task,
        so answers that arrive while the service stops are still acknowledged)."""
        await self.ensure_group()
        # First our own pending entries (sent before a restart, never acknowledged),
        # page by page, then new ones.
        position = "0"
        while not self.stopping:
            resp = await self.redis.xreadgroup(
                self.group,
                CONSUMER,
                {self.keys.sms_outbox(): position},
                count=100,
                block=None if position != ">" else 1000,
            )
            entries = resp[0][1] if resp else []
            if position != ">":
                if not entries:
                    position = ">"
                    continue
                position = entries[-1][0]
            for entry_id, fields in entries:
                if fields:  # an empty entry was deleted from the stream meanwhile
                    await self.send(entry_id, fields)

    async def send(self, entry_id: str, fields: dict[str, str]) -> None:
        if entry_id in self._active:
            return  # being sent by this process already (re-read after a Redis hiccup)
        self._active.add(entry_id)
        await self._submit(entry_id, fields)

    async def _submit(self, entry_id: str, fields: dict[str, str]) -> None:
        to, text = fields.get("to", ""), fields.get("text", "")
        if not is_digits(to) or not text:
            await self._fail(entry_id, fields, "bad outbox entry (to/text)")
            return
        builds = self.mt.build(to, text, self.source_for(fields.get("kind", "")))
        await self._send_parts(_Job(entry_id, fields, builds))

    async def _send_parts(self, job: _Job) -> None:
        """Submit the parts the SMSC has not accepted yet: all at first, after a temporary
        error only the refused ones, built once (the same concatenation reference), so the
        handset gets each part once."""
        for index in job.start_round():
            await self.pool.submit(job.builds[index], (job, index), self._on_result)

    def _on_result(self, token: tuple[_Job, int], status: int, message_id: str) -> None:
        job, index = token
        if job.answer(index, status, message_id):
            self._done.put_nowait(job)

    async def finish_loop(self) -> None:
        while True:
            job = await self._done.get()
            try:
                await self._finish(job)
            except Exception:
                log.exception("recording an outbox result failed")

    async def flush(self) -> None:
        """Record every result already in (at shutdown, after the unbind); temporary
        failures are left pending in the stream for the next start."""
        while not self._done.empty():
            job = self._done.get_nowait()
            if job.status == 0 or not codec.is_temporary(job.status):
                await self._finish(job)

    async def _finish(self, job: _Job) -> None:
        if job.status == 0:
            async with self.redis.pipeline(transaction=False) as pipe:
                for mid in job.mids():
                    pipe.set(
                        self.keys.sms_message_id(normalise_id(mid, self.smpp.message_id_base)),
                        f"o\t{job.fields.get('dedupe_key', '')}\t{time.time():.2f}",
                        ex=259200,
                    )
                pipe.xack(self.keys.sms_outbox(), self.group, job.entry_id)
                pipe.hdel(self.keys.sms_outbox_attempts(), job.entry_id)
                pipe.hincrby(self.keys.sms_stats(), f"sent_{job.fields.get('kind', 'sms')}", 1)
                await pipe.execute()
            self.sent += 1
            self._active.discard(job.entry_id)
            return
        reason = codec.status_name(job.status)
        if codec.is_temporary(job.status):
            attempts = await self.redis.hincrby(self.keys.sms_outbox_attempts(), job.entry_id, 1)
            if attempts < self.sms.max_attempts:
                log.info(
                    "outbox SMS to %s: %s, retrying", mask_phone(job.fields.get("to", "")), reason
                )
                self._retry_timers[job.entry_id] = asyncio.get_running_loop().call_later(
                    min(RETRY_DELAY * attempts, MAX_RETRY_DELAY), self._resend, job
                )
                return
        await self._fail(job.entry_id, job.fields, reason)

    def _resend(self, job: _Job) -> None:
        self._retry_timers.pop(job.entry_id, None)
        run_held(self._resends, self._send_parts(job))

    async def cancel_retries(self) -> None:
        """At shutdown: retries not due yet or waiting for the window stop here. Their
        entries stay pending in the consumer group: the next start sends them."""
        for timer in self._retry_timers.values():
            timer.cancel()
        self._retry_timers.clear()
        await cancel_until_done(*self._resends)

    async def _fail(self, entry_id: str, fields: dict[str, str], reason: str) -> None:
        self._active.discard(entry_id)
        log.warning("outbox SMS to %s failed: %s", mask_phone(fields.get("to", "")), reason)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.keys.sms_outbox_failed(),
                {**fields, "reason": reason},
                maxlen=100000,
                approximate=True,
            )
            pipe.xack(self.keys.sms_outbox(), self.group, entry_id)
            pipe.hdel(self.keys.sms_outbox_attempts(), entry_id)
            await pipe.execute()
