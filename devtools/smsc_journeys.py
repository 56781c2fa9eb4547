"""Scripted USSD journeys that the development SMSC plays itself: many handsets at once,
no HTTP per hop, each hop timed from its deliver_sm written to its screen read back.

The USSD-over-SMPP benchmark's load (``POST /ussd/journeys``). A script is data: the
answers in order (``{digits}`` is the phone's own secret, e.g. the last 6 of its
NIK), an answer repeated while the screen matches a pattern (the screening
questions), and what the last screen must say.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from core.privacy import mask_phone
from devtools.smsc_deliver import ussd_exchange
from devtools.smsc_state import SimState

HOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Script:
    answers: tuple[str, ...]  # the first is the dial, e.g. "*119#"
    repeat_text: str  # sent while the screen matches repeat_while
    repeat_while: re.Pattern[str]
    final: re.Pattern[str]  # the last screen ends the dialogue and matches this

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        """ValueError/TypeError/KeyError/re.error for a malformed script."""
        answers = tuple(str(a) for a in data["answers"])
        if not answers:
            raise ValueError("answers is empty")
        return cls(
            answers,
            str(data.get("repeat_text", "")),
            re.compile(str(data.get("repeat_while", r"(?!x)x"))),
            re.compile(str(data["final"])),
        )


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    journeys: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self, wall: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

        return {
            "seconds": wall,
            "hops": len(ordered),
            "journeys": self.journeys,
            "failures": len(self.failures),
            "failure_samples": self.failures[:3],
            "latency_ms": {f"p{q}": pct(q / 100) if ordered else 0.0 for q in (50, 90, 99)},
        }


async def _journey(state: SimState, msisdn: str, digits: str, script: Script, tally: Tally):
    async def hop(text: str) -> tuple[str, bool]:
        started = time.perf_counter()
        screen = await ussd_exchange(state, msisdn, text, wait=HOP_TIMEOUT)
        tally.latencies.append(time.perf_counter() - started)
        if screen is None:
            raise RuntimeError("no screen")
        return screen.text, screen.end

    text, end = "", False
    for answer in script.answers:
        while script.repeat_text and script.repeat_while.search(text) and not end:
            text, end = await hop(script.repeat_text)
        if end:
            raise RuntimeError(f"ended early: {text[:60]!r}")
        text, end = await hop(answer.replace("{digits}", digits))
    if not (end and script.final.search(text)):
        raise RuntimeError(f"unexpected last screen: {text[:60]!r}")


async def play(
    state: SimState, phones: list[tuple[str, str]], handsets: int, seconds: float, script: Script
) -> dict[str, Any]:
    """`handsets` phones at a time play `script`, each with the next (msisdn, digits)
    of `phones`, until `seconds` have passed or the phones run out."""
    tally = Tally()
    queue: Iterator[tuple[str, str]] = iter(phones)
    started = time.perf_counter()
    deadline = started + seconds

    async def handset() -> None:
        for msisdn, digits in queue:
            if time.perf_counter() >= deadline:
                return
            try:
                await _journey(state, msisdn, digits, script, tally)
                tally.journeys += 1
            except (RuntimeError, TimeoutError, LookupError) as exc:
                tally.failures.append(f"{mask_phone(msisdn)}: {exc or type(exc).__name__}")

    await asyncio.gather(*(handset() for _ in range(handsets)))
    return tally.summary(time.perf_counter() - started)
