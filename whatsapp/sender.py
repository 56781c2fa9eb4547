"""Sending the queued messages: one phone at a time in order, many phones at once.

A phone whose answer was just queued is drained at once; the loop asks the due
index for the rest (retries after a backoff, phones that found no free slot, what
a restart left queued). Each phone is drained in its own task (at most
``send_concurrency`` at once): the oldest message is sent,
and only once the Graph API accepted it is it taken off the queue. A 429, a 5xx
or no answer leaves it there and puts the phone back in the index after a
backoff (doubling, with jitter, Retry-After respected); later messages to that
phone wait behind it, so the order never changes. A refused message is recorded
as failed and the next one goes. Outside the 24-hour window nothing free-form is
sent: the queue is given up on and the approved template, if one is configured,
is sent instead.

Stopping lets every request in flight finish and its outcome be written first:
a restart resumes exactly where the queue stands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

import orjson
from redis.exceptions import RedisError

from core import metrics
from core.privacy import mask_phone
from whatsapp.graph import GraphClient, SendResult
from whatsapp.queue import Head, PhoneState, entry, now_ms
from whatsapp.render import template_message
from whatsapp.settings import WhatsAppSettings

log = logging.getLogger(__name__)
CLOSED = -1  # a window length that makes WINDOW_CLOSED give up whatever the clock says


class Sender:
    def __init__(self, state: PhoneState, graph: GraphClient, settings: WhatsAppSettings) -> None:
        self.state, self.graph, self.settings = state, graph, settings
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._active: dict[str, asyncio.Task[None]] = {}
        self._failures: dict[str, int] = {}  # consecutive retries per phone (for the backoff)
        self._waiting = False  # a due phone found no free slot

    def wake(self, phone: str = "", head: Head | None = None) -> None:
        """Something was queued for `phone`: start its drain now, without a look at the index.

        A phone already being drained needs nothing: its drain looks at the queue again
        before it ends. A phone backing off, or one without a free slot, is picked up by
        the run loop when due.
        """
        if phone in self._failures:
            return  # backing off: the index holds it until its retry is due
        if phone and phone not in self._active and not self._stop.is_set():
            if len(self._active) < self.settings.send_concurrency:
                self._start(phone, head)
                return
            self._waiting = True
        self._wake.set()

    def _start(self, phone: str, head: Head | None = None) -> None:
        task = asyncio.create_task(self._drain(phone, head))
        self._active[phone] = task
        task.add_done_callback(lambda _: self._finished(phone))

    async def run(self) -> None:
        """Drain due phones: retries after their backoff, and what no drain took at once."""
        while not self._stop.is_set():
            self._wake.clear()
            self._waiting = False
            try:
                phones, next_due = await self.state.due(self.settings.send_concurrency * 2)
            except (RedisError, OSError) as exc:
                log.warning("WhatsApp sender cannot read the due index: %s", exc)
                phones, next_due = [], None
            for phone in phones:
                if phone not in self._active:
                    if len(self._active) >= self.settings.send_concurrency:
                        self._waiting = True
                        break
                    self._start(phone)
            wait = 1.0 if next_due is None else (next_due - now_ms()) / 1000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min(1.0, max(0.005, wait)))

    def _finished(self, phone: str) -> None:
        self._active.pop(phone, None)
        if self._waiting:  # a slot is free for a phone that had to wait
            self._wake.set()

    async def stop(self) -> None:
        """Start nothing new; let the requests in flight finish and be recorded."""
        self._stop.set()
        self._wake.set()
        active = list(self._active.values())
        if active:
            await asyncio.wait(active, timeout=self.settings.request_timeout_seconds + 2)

    async def _drain(self, phone: str, head: Head | None) -> None:
        try:
            while not self._stop.is_set():
                if head is None:
                    head = await self.state.head(phone)
                raw, last_inbound = head
                if raw is None:
                    if not await self.state.settle(phone):
                        return
                    head = None
                    continue
                sent, head = await self._send_head(phone, raw, last_inbound)
                if not sent:
                    return
        except (RedisError, OSError) as exc:  # the phone stays due: tried again next round
            log.warning("WhatsApp send to %s interrupted: %s", mask_phone(phone), exc)
            await asyncio.sleep(0.5)

    async def _send_head(self, phone: str, raw: str, last_inbound: int) -> tuple[bool, Head | None]:
        """Send the oldest message: (False: the phone waits for its backoff; the next head,
        when already known)."""
        try:
            stored = orjson.loads(raw)
            message, kind = stored["m"], stored["m"]["type"]
        except (ValueError, KeyError, TypeError):
            await self._give_up(phone, raw, "unreadable queue entry")
            return True, None
        if kind != "template" and time.time() - last_inbound > self.settings.window_seconds:
            await self._window_closed(phone, self.settings.window_seconds)
            return True, None
        result = await self.graph.send(phone, message)
        if result.outcome != "window":  # a closed window counts the messages it drops
            metrics.WHATSAPP_SENDS.labels(result.outcome).inc()
        if result.outcome != "retry":
            self._failures.pop(phone, None)
        if result.outcome == "sent":
            if isinstance(stored.get("t"), int):
                metrics.WHATSAPP_QUEUED_SECONDS.observe((now_ms() - stored["t"]) / 1000)
            ttl = self._status_ttl
            return True, await self.state.sent(phone, raw, result.message_id, ttl, "sent")
        if result.outcome == "window":
            await self._window_closed(phone, CLOSED)
            return True, None
        if result.outcome == "failed":
            await self._give_up(phone, raw, result.reason)
            return True, None
        await self._back_off(phone, result)
        return False, None

    @property
    def _status_ttl(self) -> int:
        return self.settings.status_retention_seconds

    async def _give_up(self, phone: str, raw: str, reason: str) -> None:
        log.warning("WhatsApp message to %s given up: %s", mask_phone(phone), reason)
        await self.state.sent(phone, raw, "", self._status_ttl, "failed")
        await self.state.give_up(phone, raw, reason)

    async def _window_closed(self, phone: str, window: int) -> None:
        s = self.settings
        template = ""
        if s.template_name:
            message = template_message(s.template_name, s.template_language)
            template = entry(f"template:{now_ms()}", message)
        dropped = await self.state.window_closed(phone, window, template)
        if dropped:
            log.info(
                "24-hour window of %s closed: %d message(s) not sent%s", mask_phone(phone),
                len(dropped), ", template queued" if template else "",
            )  # fmt: skip
            metrics.WHATSAPP_SENDS.labels("window_closed").inc(len(dropped))
            for raw in dropped:
                await self.state.give_up(phone, raw, "the 24-hour window had closed")
            await self.state.count("window_closed", *(["templates"] if template else []))

    async def _back_off(self, phone: str, result: SendResult) -> None:
        s = self.settings
        tries = self._failures[phone] = self._failures.get(phone, 0) + 1
        delay = min(s.retry_max_seconds, s.retry_min_seconds * 2 ** (tries - 1))
        delay *= random.uniform(0.5, 1.0)
        if result.retry_after > delay:
            delay = min(result.retry_after, s.retry_max_seconds)
        log.warning(
            "WhatsApp send to %s not accepted (%s): retry %d in %.1fs",
            mask_phone(phone), result.reason, tries, delay,
        )  # fmt: skip
        await self.state.retry_at(phone, now_ms() + int(delay * 1000))
        await self.state.count("retries")
        self._wake.set()  # the loop's next look is at this retry's time, not later
