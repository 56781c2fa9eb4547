"""A token bucket for messages per second (async, never busy-waits)."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """`rate` tokens per second; a small burst so a 1-second window never sees more than
    rate + 1 % (the SMSC counts that way)."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = float(rate)
        self.capacity = burst if burst is not None else max(1.0, self.rate * 0.01)
        self.tokens = 0.0  # start empty: no burst above the rate at bind time
        self.stamp = time.monotonic()

    def set_rate(self, rate: float) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate * 0.01)

    async def take(self) -> None:
        if self.rate <= 0:
            return
        while True:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return
            await asyncio.sleep((1.0 - self.tokens) / self.rate)


class Backoff:
    """Exponential backoff with full jitter between `low` and `high` seconds."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high
        self.attempt = 0

    def next_delay(self) -> float:
        import random

        ceiling = min(self.high, self.low * (2**self.attempt))
        self.attempt += 1
        return random.uniform(self.low / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0
