"""Logging set-up: one handler on stderr, every record masked (see :mod:`core.privacy`).

``[service] log_format`` is "text" (one readable line) or "json" (one JSON object per
line: time, level, logger, message, and the request's id, channel and masked msisdn
when an edge set them with :func:`log_context`).
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import time

from aiohttp.http_exceptions import HttpProcessingError

from core.privacy import RedactingFilter, mask_phone

# What the edge handling the current message knows: request_id, channel, msisdn. The
# msisdn is masked when a record is written (most hops write none: masking every hop's
# number up front cost more than the rest of the tagging).
_CONTEXT: contextvars.ContextVar[tuple[str, str, str] | None] = contextvars.ContextVar(
    "log_context", default=None
)
# Request ids for messages that arrive without one: unique per process (pid and a random
# part, then a counter), cheaper than a uuid4 per hop. Made again in a forked worker.
_ids: list[str | itertools.count[int]] = []


def _new_id_source() -> None:
    _ids[:] = [f"{os.getpid():x}{os.urandom(3).hex()}-", itertools.count(1)]


_new_id_source()
os.register_at_fork(after_in_child=_new_id_source)


def new_request_id() -> str:
    prefix, counter = _ids
    return f"{prefix}{next(counter):x}"  # type: ignore[call-overload]


class log_context:  # lower case: used like the function it replaced, `with log_context(...)`
    """Tag every log record written inside the block (the msisdn is written masked).

    A class, not a generator context manager: it runs once per hop, and the
    generator machinery cost four times the tagging itself.
    """

    __slots__ = ("_tags", "_token")

    def __init__(self, *, request_id: str = "", channel: str = "", msisdn: str = "") -> None:
        self._tags = (request_id, channel, msisdn)

    def __enter__(self) -> None:
        self._token = _CONTEXT.set(self._tags)

    def __exit__(self, *exc: object) -> None:
        _CONTEXT.reset(self._token)


def current_context() -> dict[str, str]:
    """The tags of the current message, as a record carries them (msisdn masked)."""
    tags = _CONTEXT.get()
    if tags is None:
        return {}
    request_id, channel, msisdn = tags
    fields = {"request_id": request_id, "channel": channel}
    if msisdn:
        fields["msisdn"] = mask_phone(msisdn)
    return {k: v for k, v in fields.items() if v}


class ContextFilter(logging.Filter):
    """Copies the current log context onto the record (``record.context``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.context = current_context()
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


class MalformedRequestFilter(logging.Filter):
    """aiohttp logs a request it cannot parse (a NUL in a header, a line too long) as an
    error with a traceback. That is the client's mistake, already answered with a 400:
    one warning line, naming the kind of mistake, not the request's bytes (which may
    carry a phone or a NIK)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = "refused a malformed HTTP request from %s: %s (%s)"
            record.args = (remote, type(exc).__name__, exc.code)
            record.exc_info, record.exc_text = None, None
        return True


_MALFORMED = MalformedRequestFilter()


def setup_logging(level: str = "INFO", log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    handler.addFilter(ContextFilter())
    logging.getLogger("aiohttp.server").addFilter(_MALFORMED)  # once: the same object
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
