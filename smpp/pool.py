"""Keeps every configured bind connected (reconnect with backoff + jitter) and spreads
SMS submits over the transmitting sessions that are up on binds carrying SMS; a USSD
answer goes out on the bind its hop came from (:meth:`SmppPool.submit_on`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from core import metrics
from core.aio import cancel_until_done
from smpp import codec
from smpp.budget import Budgets
from smpp.ratelimit import Backoff
from smpp.session import BindRejected, DeliverHandler, ResultCallback, SessionClosed, SmppSession
from smpp.settings import BindSettings

log = logging.getLogger(__name__)


def _bind_commands(mode: str) -> list[int]:
    if mode == "transmitter_receiver":
        return [codec.BIND_TRANSMITTER, codec.BIND_RECEIVER]
    if mode == "transmitter":
        return [codec.BIND_TRANSMITTER]
    return [codec.BIND_TRANSCEIVER]


class SmppPool:
    def __init__(
        self,
        binds: list[BindSettings],
        on_deliver: DeliverHandler | None,
        budgets: Budgets | None = None,
    ) -> None:
        self.binds = binds
        self.on_deliver = on_deliver
        # Each SMSC account's messages per second, shared by its binds (and, through
        # Redis, by every process): without Redis, paced in this process alone.
        self.budgets = budgets or Budgets(None, None)
        self.sessions: list[SmppSession] = []
        self._ready = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._rr = 0  # round robin over the transmitters
        self._senders: list[SmppSession] = []  # the SMS transmitters up (kept by _update_ready)
        self.connects = 0
        self.last_error = ""

    def start(self) -> None:
        for i, bind in enumerate(self.binds):
            for command in _bind_commands(bind.bind_mode):
                name = f"smpp[{i}:{codec.BIND_NAMES[command].removeprefix('bind_')}]"
                self._tasks.append(asyncio.create_task(self._keep(bind, command, name)))

    async def _keep(self, bind: BindSettings, command: int, name: str) -> None:
        backoff = Backoff(bind.reconnect_min, bind.reconnect_max)
        while not self._stopping:
            budget = self.budgets.for_bind(bind)
            session = SmppSession(bind, command, self.on_deliver, name, budget)
            try:
                await session.open()
            except BindRejected as exc:
                self.last_error = str(exc)
                log.error("%s %s", name, exc)
            except (OSError, TimeoutError, codec.PduError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s cannot connect: %s", name, self.last_error)
            else:
                backoff.reset()
                self.connects += 1
                metrics.SMPP_RECONNECTS.inc()
                self.sessions.append(session)
                self._update_ready()
                await session.closed.wait()
                self.sessions.remove(session)
                self._update_ready()
                if self._stopping:
                    return
            delay = backoff.next_delay()
            log.info("%s reconnecting in %.1fs", name, delay)
            await asyncio.sleep(delay)

    def _sms_senders(self) -> list[SmppSession]:
        return [s for s in self.sessions if s.can_submit and s.settings.carries_sms]

    def _update_ready(self) -> None:
        self._senders = self._sms_senders()
        if self._senders:
            self._ready.set()
        else:
            self._ready.clear()

    def try_submit(
        self, build: Callable[[int], bytes], token: Any, callback: ResultCallback
    ) -> bool:
        """Write one SMS submit at once on a bound transmitter with room; False: nothing
        written (use :meth:`submit`, which waits)."""
        senders = self._senders
        if not senders:
            return False
        for _ in range(len(senders)):
            self._rr += 1
            if senders[self._rr % len(senders)].try_submit(build, token, callback):
                return True
        return False

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    def inflight(self) -> int:
        return sum(s.inflight for s in self.sessions)

    async def wait_ready(self, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def submit(
        self, build: Callable[[int], bytes], token: Any, callback: ResultCallback
    ) -> None:
        """Write one SMS submit on some bound transmitter, waiting for one to be up."""
        while True:
            await self._ready.wait()
            candidates = self._senders
            if not candidates:
                self._update_ready()
                continue
            session = candidates[self._rr % len(candidates)]
            self._rr += 1
            try:
                await session.submit(build, token, callback)
                return
            except SessionClosed:
                await asyncio.sleep(0)  # the keeper notices and reconnects

    async def submit_on(
        self,
        bind: BindSettings,
        build: Callable[[int], bytes],
        token: Any,
        callback: ResultCallback,
    ) -> bool:
        """Write one submit on a transmitter of `bind` (a USSD answer goes back the way its
        hop came). False when none is up: the network has lost that dialogue anyway."""
        for session in [s for s in self.sessions if s.settings is bind and s.can_submit]:
            try:
                await session.submit(build, token, callback, paced=False)
                return True
            except SessionClosed:
                continue
        return False

    def stats(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for s in self.sessions:
            for k, v in s.stats.items():
                total[k] = total.get(k, 0) + v
        return total

    async def stop(self, grace: float = 5.0) -> None:
        """Clean unbind of every session (after outstanding submits are answered)."""
        self._stopping = True
        await asyncio.gather(
            *(s.unbind(grace) for s in list(self.sessions)), return_exceptions=True
        )
        await cancel_until_done(*self._tasks)
        self._ready.clear()
