"""Logging set-up: one handler on stderr, every record masked (see :mod:`core.privacy`)."""

from __future__ import annotations

import logging

from core.privacy import RedactingFilter


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
