"""Redis failing under the SMSC's deliver_sm: a temporary error back, a count in the log.

The SMSC keeps a deliver_sm answered with a temporary error (ESME_RX_T_APPN) and sends
it again later, so an incoming SMS or receipt that Redis could not take is not lost:
the log needs how many, not each one. A traceback per message (1,000 MO/s during an
outage: 1,000 tracebacks a second) buried everything else. Now the first failure of
a kind is written at once, the following ones are counted and written together each
second while they go on (the line says how many, never whose), and
``vaksin_sms_deferred_total{kind}`` counts every one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core import metrics

log = logging.getLogger(__name__)

# Redis out of reach, as either client says it: redis-py's connection and timeout
# errors, the lean client's FastRedisError (a redis-py ConnectionError), or a socket
# error or timeout that got past them.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)
# What a deliver_sm handler answers with a temporary error instead of raising: those,
# and an error reply (READONLY on a replica after a failover, OOM, LOADING...).
FAILURES = (RedisError, OSError, TimeoutError)
# The line's words per kind (the metric's label).
WHAT = {"mo": "SMS could not be handled", "receipt": "delivery receipts could not be recorded"}
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
    """At most one line per `interval` per (kind, cause), each with its count."""

    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        self._kinds: dict[tuple[str, str], _Kind] = {}

    def count(self, kind: str, exc: BaseException) -> None:
        metrics.SMS_DEFERRED.labels(kind).inc()
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
        """Write what is counted and not written yet (the channel stops)."""
        for key, entry in self._kinds.items():
            entry.timer.cancel()
            if entry.count:
                self._write(key, entry.count)
        self._kinds.clear()

    @staticmethod
    def _write(key: tuple[str, str], count: int) -> None:
        kind, why = key
        log.warning(
            "%d %s: %s (answered ESME_RX_T_APPN: the SMSC sends them again)",
            count, WHAT[kind], why,
        )  # fmt: skip
