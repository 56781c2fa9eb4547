"""One SMPP connection (one bind) on asyncio streams: bind, read, pace, keep alive.

Submits are matched to responses by sequence number in a :class:`SubmitWindow`;
every deliver_sm is answered with the status its handler returns (a retransmission of
one answered ROK is not handled again: :mod:`smpp.deliveries`), and nothing the
SMSC sends (a command we do not take, an unreadable PDU) ends the session except a
byte stream that can no longer be split into PDUs (see :mod:`smpp.frames`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from core.aio import run_held
from smpp import codec
from smpp.bind import BindRejected, open_bind
from smpp.budget import Budget, LocalBudget
from smpp.deliveries import DeliverHandler, Deliveries
from smpp.settings import BindSettings
from smpp.window import Build, ResultCallback, SubmitWindow

log = logging.getLogger(__name__)

__all__ = ["BindRejected", "DeliverHandler", "ResultCallback", "SessionClosed", "SmppSession"]


class SessionClosed(ConnectionError):
    """The connection is gone; nothing was written for the submit that got this."""


class SmppSession:
    def __init__(
        self,
        settings: BindSettings,
        bind_command: int,
        on_deliver: DeliverHandler | None,
        name: str = "smpp",
        budget: Budget | None = None,
    ) -> None:
        self.settings = settings
        self.bind_command = bind_command
        self.on_deliver = on_deliver
        self.name = name
        # The SMSC account's messages per second (the pool shares one between binds).
        if budget is None and settings.rate > 0:
            budget = LocalBudget(settings.rate)
        self.budget = budget
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._seq = 0
        self.stats = {"submitted": 0, "throttled": 0, "timeouts": 0, "nacks": 0, "bad_pdus": 0}
        self.window = SubmitWindow(settings, self.stats)
        self.deliveries = Deliveries(on_deliver, settings, name, self.stats)
        self._pending_other: dict[int, asyncio.Future[codec.Frame]] = {}
        self.closed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._last_heard = time.monotonic()
        self._unbinding = False
        self._unsent: list[bytes] = []

    @property
    def can_submit(self) -> bool:
        return self.bind_command != codec.BIND_RECEIVER and not self.closed.is_set()

    @property
    def inflight(self) -> int:
        return len(self.window)

    def _next_seq(self) -> int:
        self._seq = self._seq + 1 if self._seq < 0x7FFFFFFF else 1
        return self._seq

    # --- lifecycle ---------------------------------------------------------------------

    async def open(self, timeout: float = 10.0) -> None:
        s = self.settings
        bound = await open_bind(s, self.bind_command, self._next_seq(), timeout)
        self.reader, self.writer = bound.reader, bound.writer
        self._last_heard = time.monotonic()
        self._tasks = [
            asyncio.create_task(self._read_loop(bound.buffer, bound.frames)),
            asyncio.create_task(self._keepalive_loop()),
        ]
        log.info("%s bound to %s:%d", self.name, s.host, s.port)

    def _spawn(self, coro: Any) -> None:
        run_held(self._background, coro)

    def _abort(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()

    def _write(self, data: bytes) -> None:
        """Queue PDU bytes; everything written in one event-loop turn goes out in one
        send (a USSD screen and its deliver_sm_resp, a burst of blast submits)."""
        if self.writer is None or self.closed.is_set() or self.writer.transport.is_closing():
            raise SessionClosed(self.name)
        if not self._unsent:
            asyncio.get_running_loop().call_soon(self._flush)
        self._unsent.append(data)

    def _flush(self) -> None:
        data, self._unsent = b"".join(self._unsent), []
        if self.writer is not None and not self.closed.is_set():
            self.writer.write(data)

    async def _close(self, why: str) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        if self._unbinding:
            log.info("%s unbound", self.name)
        else:
            log.warning("%s connection closed: %s", self.name, why)
        self._abort()
        self.window.fail_all()
        self.window.publish()
        for fut in self._pending_other.values():
            if not fut.done():
                fut.set_exception(SessionClosed(why))
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()

    async def unbind(self, grace: float = 5.0) -> None:
        """Wait (up to `grace`) for outstanding submits, then unbind cleanly."""
        deadline = time.monotonic() + grace
        while len(self.window) and not self.closed.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if not self.closed.is_set():
            self._unbinding = True
            with contextlib.suppress(Exception):
                await self.request(codec.UNBIND, timeout=2.0)
        await self._close("unbound")

    async def request(self, command_id: int, timeout: float) -> codec.Frame:
        """A header-only request (enquire_link, unbind) and its response."""
        seq = self._next_seq()
        fut: asyncio.Future[codec.Frame] = asyncio.get_running_loop().create_future()
        self._pending_other[seq] = fut
        try:
            self._write(codec.header_only(command_id, seq))
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._pending_other.pop(seq, None)

    # --- submitting --------------------------------------------------------------------

    async def submit(
        self, build: Build, token: Any, callback: ResultCallback, *, paced: bool = True
    ) -> None:
        """Wait for window room, the account's budget and any throttle pause, then write
        one PDU. Not `paced` (a USSD screen, interactive): no budget wait (charged
        afterwards), no throttle pause, the window's interactive reserve, served first.

        Raises SessionClosed (nothing written) when the connection goes meanwhile.
        """
        if not await self.window.wait_for_room(self.closed, interactive=not paced):
            raise SessionClosed(self.name)
        budget = self.budget
        if budget is not None and paced:
            await budget.take()
        if self.closed.is_set():
            raise SessionClosed(self.name)
        if budget is not None and not paced:
            budget.charge()
        self._send(build, token, callback, interactive=not paced)
        transport = self.writer.transport if self.writer else None
        if transport is not None and transport.get_write_buffer_size() > 1 << 20:
            await self.writer.drain()  # type: ignore[union-attr]

    def try_submit(self, build: Build, token: Any, callback: ResultCallback) -> bool:
        """Write one PDU at once if nothing needs waiting for (a free slot, no throttle
        pause, no budget to ask); False: nothing written, use :meth:`submit`."""
        if self.budget is not None or self.closed.is_set() or not self.window.has_room():
            return False
        self._send(build, token, callback)
        return True

    def _send(
        self, build: Build, token: Any, callback: ResultCallback, *, interactive: bool = False
    ) -> None:
        seq = self._next_seq()
        self._write(build(seq))  # raises SessionClosed before anything is registered
        self.window.add(seq, token, callback, interactive=interactive)

    # --- reading -----------------------------------------------------------------------

    async def _read_loop(self, buffer: bytearray, first: list[codec.Frame]) -> None:
        assert self.reader is not None
        why = "connection lost"
        try:
            for frame in first:
                self._dispatch(frame)
            while True:
                chunk = await self.reader.read(262144)
                if not chunk:
                    why = "SMSC closed the connection"
                    break
                self._last_heard = time.monotonic()
                buffer += chunk
                try:
                    frames = codec.split_frames(buffer)
                except codec.FramingError as exc:
                    self.stats["bad_pdus"] += 1
                    why = f"garbage on the wire ({exc}); reconnecting"
                    break
                for frame in frames:
                    self._dispatch(frame)
        except (ConnectionError, OSError) as exc:
            why = f"connection error: {exc}"
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not leave a half-dead bind behind
            log.exception("%s reader failed", self.name)
            why = "reader failed"
        await self._close(why)

    def _dispatch(self, frame: codec.Frame) -> None:
        cid = frame.command_id
        if cid == codec.SUBMIT_SM_RESP:
            message_id = codec.parse_message_id(frame.body) if frame.status == 0 else ""
            self.window.finish(frame.sequence, frame.status, message_id)
        elif cid == codec.DELIVER_SM or cid == codec.DATA_SM:
            self._spawn(self._answer_deliver(frame))
        elif cid == codec.ENQUIRE_LINK:
            self._write(codec.header_only(codec.ENQUIRE_LINK_RESP, frame.sequence))
        elif cid == codec.UNBIND:
            self._write(codec.header_only(codec.UNBIND_RESP, frame.sequence))
            self._spawn(self._close("SMSC unbound"))
        elif cid == codec.GENERIC_NACK:
            self.stats["nacks"] += 1
            if frame.sequence in self.window:
                self.window.finish(frame.sequence, codec.GENERIC_NACK, "")
            else:
                log.warning(
                    "%s generic_nack 0x%X for seq %d", self.name, frame.status, frame.sequence
                )
        elif cid & codec.RESP_BIT:
            fut = self._pending_other.get(frame.sequence)
            if fut is not None and not fut.done():
                fut.set_result(frame)
        elif cid == codec.ALERT_NOTIFICATION:  # it has no response (SMPP 3.4, 4.12)
            log.debug("%s alert_notification ignored", self.name)
        else:
            self.stats["bad_pdus"] += 1
            log.warning("%s unexpected command 0x%08X: generic_nack", self.name, cid)
            self._write(codec.header_only(codec.GENERIC_NACK, frame.sequence, codec.ESME_RINVCMDID))

    async def _answer_deliver(self, frame: codec.Frame) -> None:
        resp_id = frame.command_id | codec.RESP_BIT
        status = await self.deliveries.status(frame)  # a retransmission: ROK, not handled
        with contextlib.suppress(SessionClosed):
            self._write(codec.header_only(resp_id, frame.sequence, status))

    # --- keep-alive and timeouts -------------------------------------------------------

    async def _keepalive_loop(self) -> None:
        interval = self.settings.enquire_link_interval
        tick = min(0.5, self.settings.response_timeout / 4)
        next_ping = time.monotonic() + interval
        try:
            while not self.closed.is_set():
                await asyncio.sleep(tick)
                now = time.monotonic()
                self.window.expire(now)
                self.window.publish()
                if now >= next_ping:
                    next_ping = now + interval
                    self._spawn(self._ping())
        except asyncio.CancelledError:
            pass

    async def _ping(self) -> None:
        try:
            await self.request(codec.ENQUIRE_LINK, timeout=self.settings.response_timeout)
        except (TimeoutError, SessionClosed):
            await self._close("no enquire_link_resp: peer is dead")
