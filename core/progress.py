"""A dependency-free progress bar on stderr for long imports."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Callable as ``progress(rows, done_bytes, total_bytes)``; redraws at most 5 times a second."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label, self.width = label, width
        self.stream = stream or sys.stderr
        self._last = 0.0
        self._started = time.monotonic()

    @classmethod
    def auto(cls, label: str, force: bool = False) -> ProgressBar | None:
        """A bar when stderr is a terminal (or ``force``), else None."""
        return cls(label) if force or sys.stderr.isatty() else None

    def __call__(self, rows: int, done: int | None, total: int | None, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < 0.2:
            return
        self._last = now
        elapsed = max(now - self._started, 1e-6)
        rate = f"{rows / elapsed:,.0f} rows/s"
        if done is not None and total:
            fraction = min(done / total, 1.0)
            filled = int(fraction * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            line = f"\r{self.label} [{bar}] {fraction:5.1%} {rows:,} rows, {rate}"
        else:
            line = f"\r{self.label} {rows:,} rows, {rate}"
        self.stream.write(line + ("\n" if final else ""))
        self.stream.flush()
