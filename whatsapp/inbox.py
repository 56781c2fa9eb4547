"""The inbox: webhook events kept in a Redis stream between the 200 and their processing.

The webhook handler (any worker) adds the notification's events to the stream
and answers 200 at once; one consumer (in the worker that runs background jobs)
reads them with a consumer group, answers them, and acknowledges and deletes
them afterwards. Nothing Meta was told we have is lost across a restart: events
read but not acknowledged are read again first when the consumer starts.

The consumer waits for new events with a blocking XREADGROUP on a lean
connection of its own (a blocked command would hold up everything pipelined
behind it on the shared one).

A batch is processed phone by phone: one phone's events in the order they came,
different phones at the same time (up to ``PHONES_AT_ONCE``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from redis.exceptions import RedisError

from core.privacy import mask_phone
from core.redis_lean import FastRedis, ReplyError, as_dict
from whatsapp.keys import WhatsAppKeys
from whatsapp.webhook import Event, event_from_fields

log = logging.getLogger(__name__)

GROUP, CONSUMER = "whatsapp", "main"
BATCH = 200
PHONES_AT_ONCE = 64
BLOCK_MS = 1000

Handler = Callable[[Event], Awaitable[None]]


async def put(lean: FastRedis, keys: WhatsAppKeys, events: Sequence[Event]) -> None:
    """Add a notification's events to the inbox (one round trip)."""
    inbox = keys.wa_inbox()
    commands = []
    for event in events:
        flat = [item for pair in event.fields().items() for item in pair]
        commands.append(("XADD", inbox, "*", *flat))
    if commands:
        await lean.execute_many(*commands)


class InboxConsumer:
    def __init__(self, reader: FastRedis, keys: WhatsAppKeys, handle: Handler) -> None:
        # `reader`: a connection of the consumer's own (it blocks while waiting).
        self.redis, self.inbox, self.handle = reader, keys.wa_inbox(), handle
        self._stop = asyncio.Event()
        self._slots = asyncio.Semaphore(PHONES_AT_ONCE)

    def stop(self) -> None:
        """Finish the batch in hand, then return from :meth:`run`."""
        self._stop.set()

    async def run(self) -> None:
        backlog = True  # first what an earlier run read but did not acknowledge
        while not self._stop.is_set():
            try:
                if backlog:
                    await self._ensure_group()
                batch = await self._read("0" if backlog else ">")
                if backlog and not batch:
                    backlog = False
                    continue
                await self._process(batch)
            except (RedisError, OSError) as exc:
                log.warning("WhatsApp inbox unreadable (%s); again in 1 s", exc)
                backlog = True  # whatever was in hand is read again from the start
                await asyncio.sleep(1)

    async def _ensure_group(self) -> None:
        try:
            await self.redis.execute("XGROUP", "CREATE", self.inbox, GROUP, "0", "MKSTREAM")
        except ReplyError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _read(self, start: str) -> list[tuple[str, dict[str, str]]]:
        block = () if start == "0" else ("BLOCK", BLOCK_MS)
        reply = await self.redis.execute(
            "XREADGROUP", "GROUP", GROUP, CONSUMER, "COUNT", BATCH, *block,
            "STREAMS", self.inbox, start,
        )  # fmt: skip
        if not reply:
            return []
        return [(entry_id, as_dict(flat)) for entry_id, flat in reply[0][1] if flat is not None]

    async def _process(self, batch: list[tuple[str, dict[str, str]]]) -> None:
        if not batch:
            return
        by_phone: dict[str, list[Event]] = {}
        for _, fields in batch:
            try:
                event = event_from_fields(fields)
            except (KeyError, ValueError):
                log.warning("unreadable WhatsApp inbox entry dropped")
                continue
            by_phone.setdefault(event.phone, []).append(event)
        results = await asyncio.gather(
            *(self._phone(events) for events in by_phone.values()), return_exceptions=True
        )
        for result in results:  # every phone is done: now a Redis failure may surface
            if isinstance(result, BaseException):
                raise result
        ids = [entry_id for entry_id, _ in batch]
        await self.redis.execute_many(("XACK", self.inbox, GROUP, *ids), ("XDEL", self.inbox, *ids))

    async def _phone(self, events: list[Event]) -> None:
        async with self._slots:
            for event in events:
                try:
                    await self.handle(event)
                except (RedisError, OSError):
                    raise  # not acknowledged: read again once Redis is back
                except Exception:  # one bad event must not stop the phone's others
                    log.exception("WhatsApp event from %s failed", mask_phone(event.phone))
