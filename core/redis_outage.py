"""Redis failing under traffic: each caller answers its own way, the log gets a count.

During an outage every incoming SMS, receipt or USSD hop fails the same way. A
traceback for each (1,000 a second) buried everything else in the log, and says
nothing the first one did not. An :class:`OutageLog` writes the first failure of a kind
at once, then counts the following ones and writes them together each second while
they go on: the line says how many and why, never whose. A failure that is not Redis
(a bug) is not for this class: callers still log it in full.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

# Redis out of reach, as either client says it: redis-py's connection and timeout
# errors, the lean client's FastRedisError (a redis-py ConnectionError), or a socket
# error or timeout that got past them.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)
# Those, and an error reply (READONLY on a replica after a failover, OOM, LOADING...).
FAILURES = (RedisError, OSError, TimeoutError)
INTERVAL = 1.0


def cause(exc: BaseException) -> str:
    """What the log line names: "Redis unavailable" or the error reply's code only (an
    error text could quote a key, and keys name phones)."""
    if isinstance(exc, UNAVAILABLE):
        return "Redis unavailable"
    code = str(exc).split(" ", 1)[0]
    return f"Redis error {code}" if code.isalpha() and code.isupper() else "Redis error"


@dataclass(slots=True)
class _Kind:
    timer: asyncio.TimerHandle
    count: int = 0  # failures since the last line


class OutageLog:
    """At most one line per `interval` per (kind, cause), each with its count.

    `what` gives each kind's words ("SMS could not be handled"), `outcome` what became
    of them ("answered ESME_RX_T_APPN: the SMSC sends them again"), `counted` is told
    every failure's kind (a metric's label).
    """

    def __init__(
        self,
        what: Mapping[str, str],
        outcome: str,
        counted: Callable[[str], None],
        interval: float = INTERVAL,
    ) -> None:
        self.what, self.outcome, self.counted = what, outcome, counted
        self.interval = interval
        self._kinds: dict[tuple[str, str], _Kind] = {}

    def count(self, kind: str, exc: BaseException) -> None:
        self.counted(kind)
        key = (kind, cause(exc))
        entry = self._kinds.get(key)
        if entry is not None:
            entry.count += 1
            return
        self._write(key, 1)  # the first: at once, then quiet for an interval
        self._kinds[key] = _Kind(self._later(key))

    def _later(self, key: tuple[str, str]) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(self.interval, self._tick, key)

    def _tick(self, key: tuple[str, str]) -> None:
        entry = self._kinds[key]
        if not entry.count:  # a quiet interval: the next failure is written at once
            del self._kinds[key]
            return
        self._write(key, entry.count)
        entry.count = 0
        entry.timer = self._later(key)

    def flush(self) -> None:
        """Write what is counted and not written yet (the caller stops)."""
        for key, entry in self._kinds.items():
            entry.timer.cancel()
            if entry.count:
                self._write(key, entry.count)
        self._kinds.clear()

    def _write(self, key: tuple[str, str], count: int) -> None:
        kind, why = key
        log.warning("%d %s: %s (%s)", count, self.what[kind], why, self.outcome)
