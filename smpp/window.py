"""The outstanding submits of one bind: window room, throttle pauses and response timeouts.

Each submit is registered under its sequence number with a callback. A response,
a `generic_nack` with that sequence, a response timeout or the loss of the
connection each end it exactly once, through that callback.

Interactive submits (USSD screens: a subscriber is looking at the handset) go first:
they never wait for a throttle pause, may use `ussd_window_reserve` slots above
`window` (so SMS alone never fills the room they need), and a freed slot goes to a
waiting interactive submit before any SMS.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from core import metrics
from smpp import codec
from smpp.settings import BindSettings

# (token, status, message_id) -> None; status is an ESME code or codec.LOCAL_*.
ResultCallback = Callable[[Any, int, str], None]
# sequence number -> the PDU's bytes
Build = Callable[[int], bytes]
MAX_THROTTLE_PAUSE = 30.0
_SUBMITS: dict[int, Any] = {}  # status -> its labelled counter (looked up once)


def _publish(counts: dict[int, int]) -> None:
    for status, n in counts.items():
        child = _SUBMITS.get(status)
        if child is None:
            child = _SUBMITS[status] = metrics.SMPP_SUBMITS.labels(codec.status_name(status))
        child.inc(n)
    counts.clear()


class SubmitWindow:
    def __init__(self, settings: BindSettings, stats: dict[str, int]) -> None:
        self.settings = settings
        self.stats = stats
        # sequence -> (token, callback, deadline, interactive)
        self._outstanding: dict[int, tuple[Any, ResultCallback, float, bool]] = {}
        self._slot = asyncio.Event()
        self._slot.set()
        self.paused_until = 0.0
        self._throttle_streak = 0
        # Answers by status since the last publish (a metric increment per answer costs
        # more than the rest of its handling in multiprocess mode).
        self._answers: dict[int, int] = {}
        self._shown = 0  # what this window adds to the window-in-use gauge
        self._interactive_waiting = 0  # interactive submits waiting for a slot

    def __len__(self) -> int:
        return len(self._outstanding)

    def __contains__(self, sequence: int) -> bool:
        return sequence in self._outstanding

    def has_room(self) -> bool:
        """An SMS submit could go now: a free slot, no throttle pause and no interactive
        submit waiting for a slot."""
        return (
            len(self._outstanding) < self.settings.window
            and not self._interactive_waiting
            and time.monotonic() >= self.paused_until
        )

    def publish(self) -> None:
        """To the metrics (each keep-alive tick, and at the end): the answers counted since
        the last call and this window's share of the window-in-use gauge (a sample)."""
        _publish(self._answers)
        in_use = len(self._outstanding)
        metrics.SMPP_WINDOW.inc(in_use - self._shown)
        self._shown = in_use

    async def wait_for_room(self, closed: asyncio.Event, *, interactive: bool = False) -> bool:
        """Wait for a free slot and the end of any throttle pause; False once `closed`.

        `interactive` (a USSD screen): no throttle pause, `window + ussd_window_reserve`
        slots, and served before every SMS submit waiting."""
        if interactive:
            return await self._wait_interactive(closed)
        window = self.settings.window
        while not closed.is_set():
            if len(self._outstanding) >= window or self._interactive_waiting:
                self._slot.clear()
                await self._slot.wait()
                continue
            pause = self.paused_until - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
                continue
            return True
        return False

    async def _wait_interactive(self, closed: asyncio.Event) -> bool:
        limit = self.settings.window + self.settings.ussd_window_reserve
        if len(self._outstanding) < limit and not closed.is_set():
            return True
        self._interactive_waiting += 1
        try:
            while not closed.is_set():
                if len(self._outstanding) < limit:
                    return True
                self._slot.clear()
                await self._slot.wait()
            return False
        finally:
            self._interactive_waiting -= 1
            if not self._interactive_waiting:
                self._slot.set()  # SMS submits held back for it look again

    def add(
        self, sequence: int, token: Any, callback: ResultCallback, *, interactive: bool = False
    ) -> None:
        deadline = time.monotonic() + self.settings.response_timeout
        self._outstanding[sequence] = (token, callback, deadline, interactive)
        self.stats["submitted"] += 1

    def finish(self, sequence: int, status: int, message_id: str) -> None:
        entry = self._outstanding.pop(sequence, None)
        if entry is None:
            return  # a late answer to something already timed out: already retried
        if len(self._outstanding) < self.settings.window or self._interactive_waiting:
            self._slot.set()
        answers = self._answers
        answers[status] = answers.get(status, 0) + 1
        if status in (codec.ESME_RTHROTTLED, codec.ESME_RMSGQFUL):
            self.stats["throttled"] += 1
            metrics.SMPP_THROTTLED.inc()
            self._throttle_streak += 1
            pause = self.settings.throttle_pause * 2 ** (self._throttle_streak - 1)
            pause = min(pause, MAX_THROTTLE_PAUSE)
            self.paused_until = max(self.paused_until, time.monotonic() + pause)
        elif status == codec.ESME_ROK and not entry[3]:
            # Only an accepted SMS ends the backoff: the SMSC may take screens while it
            # still throttles SMS, and the pause is for SMS alone.
            self._throttle_streak = 0
        token, callback = entry[0], entry[1]
        callback(token, status, message_id)

    def expire(self, now: float) -> None:
        late = [seq for seq, entry in self._outstanding.items() if entry[2] <= now]
        for seq in late:
            self.stats["timeouts"] += 1
            self.finish(seq, codec.LOCAL_TIMEOUT, "")

    def fail_all(self) -> None:
        """The connection is gone: every outstanding submit ends as disconnected."""
        outstanding, self._outstanding = self._outstanding, {}
        self._slot.set()
        for token, callback, _, _ in outstanding.values():
            callback(token, codec.LOCAL_DISCONNECTED, "")
