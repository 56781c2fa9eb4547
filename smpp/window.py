"""The outstanding submits of one bind: window room, throttle pauses and response timeouts.

Each submit is registered under its sequence number with a callback. A response,
a `generic_nack` with that sequence, a response timeout or the loss of the
connection each end it exactly once, through that callback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from smpp import codec
from smpp.settings import BindSettings

# (token, status, message_id) -> None; status is an ESME code or codec.LOCAL_*.
ResultCallback = Callable[[Any, int, str], None]
MAX_THROTTLE_PAUSE = 30.0


class SubmitWindow:
    def __init__(self, settings: BindSettings, stats: dict[str, int]) -> None:
        self.settings = settings
        self.stats = stats
        self._outstanding: dict[int, tuple[Any, ResultCallback, float]] = {}
        self._slot = asyncio.Event()
        self._slot.set()
        self.paused_until = 0.0
        self._throttle_streak = 0

    def __len__(self) -> int:
        return len(self._outstanding)

    def __contains__(self, sequence: int) -> bool:
        return sequence in self._outstanding

    async def wait_for_room(self, closed: asyncio.Event) -> bool:
        """Wait for a free slot and the end of any throttle pause; False once `closed`."""
        window = self.settings.window
        while not closed.is_set():
            if len(self._outstanding) >= window:
                self._slot.clear()
                await self._slot.wait()
                continue
            pause = self.paused_until - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
                continue
            return True
        return False

    def add(self, sequence: int, token: Any, callback: ResultCallback) -> None:
        deadline = time.monotonic() + self.settings.response_timeout
        self._outstanding[sequence] = (token, callback, deadline)
        self.stats["submitted"] += 1

    def finish(self, sequence: int, status: int, message_id: str) -> None:
        entry = self._outstanding.pop(sequence, None)
        if entry is None:
            return  # a late answer to something already timed out: already retried
        if len(self._outstanding) < self.settings.window:
            self._slot.set()
        if status in (codec.ESME_RTHROTTLED, codec.ESME_RMSGQFUL):
            self.stats["throttled"] += 1
            self._throttle_streak += 1
            pause = self.settings.throttle_pause * 2 ** (self._throttle_streak - 1)
            pause = min(pause, MAX_THROTTLE_PAUSE)
            self.paused_until = max(self.paused_until, time.monotonic() + pause)
        elif status == codec.ESME_ROK:
            self._throttle_streak = 0
        token, callback, _ = entry
        callback(token, status, message_id)

    def expire(self, now: float) -> None:
        late = [seq for seq, (_, _, deadline) in self._outstanding.items() if deadline <= now]
        for seq in late:
            self.stats["timeouts"] += 1
            self.finish(seq, codec.LOCAL_TIMEOUT, "")

    def fail_all(self) -> None:
        """The connection is gone: every outstanding submit ends as disconnected."""
        outstanding, self._outstanding = self._outstanding, {}
        self._slot.set()
        for token, callback, _ in outstanding.values():
            callback(token, codec.LOCAL_DISCONNECTED, "")
