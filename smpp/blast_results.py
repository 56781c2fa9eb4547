"""The answers of a blast's submits, kept until they are written to Redis, and the bound.

A recipient is "unrecorded" from its submit until its answer (accepted with a
message id, temporary or permanent error) is written to the campaign in Redis.
:meth:`ResultBook.wait_for_room` keeps that number at or below the binds' total
window: a crash can then leave at most one window of recipients whose SMS the SMSC
took without Redis knowing, and only those are sent again (at least once, at most
one window re-sent per crash).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from smpp import codec
from smpp.campaign_store import CampaignStore
from smpp.receipts import normalise_id

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.02


@dataclass
class _Pending:
    remaining: int
    mids: list[str] = field(default_factory=list)
    status: int = 0


class ResultBook:
    def __init__(
        self,
        store: CampaignStore,
        name: str,
        bound: int,
        *,
        id_base: str,
        receipt_ttl: int,
        max_attempts: int,
    ) -> None:
        self.store, self.name, self.bound = store, name, max(bound, 1)
        self.id_base = id_base  # how submit_sm_resp ids are spelled
        self.receipt_ttl, self.max_attempts = receipt_ttl, max_attempts
        self._pending: dict[str, _Pending] = {}
        self._ok: list[tuple[str, str]] = []
        self._mids: dict[str, str] = {}
        self._retry: list[tuple[str, str]] = []
        self._failed: list[tuple[str, str]] = []
        self._flush_now = asyncio.Event()
        self._unrecorded = 0  # submitted, answer not in Redis yet
        self._room = asyncio.Event()

    @property
    def pending(self) -> int:
        """Recipients whose answers have not all arrived."""
        return len(self._pending)

    async def wait_for_room(self) -> None:
        """Block while the bound of unrecorded recipients is reached."""
        while self._unrecorded >= self.bound:
            self._room.clear()
            self._flush_now.set()
            await self._room.wait()

    def submitted(self, nik: str, parts: int) -> tuple[str, int]:
        """Count a recipient as sent (``parts`` submits); returns the submits' token."""
        self._pending[nik] = _Pending(parts)
        self._unrecorded += 1
        return (nik, parts)

    def on_result(self, token: tuple[str, int], status: int, message_id: str) -> None:
        """One submit_sm_resp (called by the SMPP session, synchronously)."""
        nik = token[0]
        p = self._pending.get(nik)
        if p is None:
            return
        p.remaining -= 1
        if status == codec.ESME_ROK:
            p.mids.append(message_id)
        elif not p.status or codec.is_temporary(p.status):
            p.status = status
        if p.remaining > 0:
            return
        del self._pending[nik]
        if p.status == 0:
            self._ok.append((nik, p.mids[0]))
            target = f"c\t{self.name}\t{nik}"
            for mid in p.mids:
                self._mids[normalise_id(mid, self.id_base)] = target
        elif codec.is_temporary(p.status):
            self._retry.append((nik, codec.status_name(p.status)))
        else:
            self._failed.append((nik, "f:" + codec.status_name(p.status)))
        # Flush early enough that the sender rarely waits for room under the bound.
        if len(self._ok) + len(self._retry) + len(self._failed) >= self.bound // 2:
            self._flush_now.set()

    async def flush(self) -> None:
        """Write the answers collected so far; each kind leaves memory once it is written."""
        if self._ok:
            ok, mids = self._ok, self._mids
            self._ok, self._mids = [], {}
            try:
                await self.store.commit(self.name, ok, mids, self.receipt_ttl)
            except BaseException:
                self._ok, self._mids = ok + self._ok, {**mids, **self._mids}
                raise
            self._recorded(len(ok))
        if self._retry:
            retry, self._retry = self._retry, []
            try:
                await self.store.retry(self.name, retry, self.max_attempts)
            except BaseException:
                self._retry = retry + self._retry
                raise
            self._recorded(len(retry))
        if self._failed:
            failed, self._failed = self._failed, []
            try:
                await self.store.finish(self.name, "failed", failed)
            except BaseException:
                self._failed = failed + self._failed
                raise
            self._recorded(len(failed))

    def _recorded(self, count: int) -> None:
        self._unrecorded -= count
        self._room.set()

    async def flusher(self) -> None:
        """Flush every FLUSH_INTERVAL, or sooner when asked; Redis hiccups are retried."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_now.wait(), FLUSH_INTERVAL)
            self._flush_now.clear()
            try:
                await self.flush()
            except (RedisError, OSError) as exc:  # kept in memory; written on the next try
                log.warning("campaign %s: recording answers failed (%s); retrying", self.name, exc)
                await asyncio.sleep(0.5)
