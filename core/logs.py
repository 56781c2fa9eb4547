"""Logging set-up: one handler on stderr, every record masked (see :mod:`core.privacy`).

``[service] log_format`` is "text" (one readable line) or "json" (one JSON object per
line: time, level, logger, message, and the request's id, channel and masked msisdn
when an edge set them with :func:`log_context`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import time
from collections.abc import Iterator

from core.privacy import RedactingFilter, mask_phone

# What the edge handling the current message knows: request_id, channel, msisdn (masked).
_CONTEXT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "log_context", default=None
)


@contextlib.contextmanager
def log_context(*, request_id: str = "", channel: str = "", msisdn: str = "") -> Iterator[None]:
    """Tag every log record written inside the block (the msisdn is stored masked)."""
    fields = {"request_id": request_id, "channel": channel}
    if msisdn:
        fields["msisdn"] = mask_phone(msisdn)
    token = _CONTEXT.set({k: v for k, v in fields.items() if v})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current log context onto the record (``record.context``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.context = _CONTEXT.get() or {}
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "context", {}),
        }
        if record.exc_text:  # already masked by RedactingFilter
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = getattr(record, "context", {})
        return f"{line} [{' '.join(f'{k}={v}' for k, v in context.items())}]" if context else line


def setup_logging(level: str = "INFO", log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
