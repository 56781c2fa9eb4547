"""Masking of personal data for logs, screens and operator views.

A NIK, a name or a phone number never reaches a log in clear. Call these at the
point of logging; :class:`RedactingFilter` is a last line of defence that masks
any 10-16 digit run that slips through, in the message and in exception text and
tracebacks alike.

The last 6 digits of a NIK are the identity check (birth year and serial), so a
masked NIK keeps the front: the province and regency code, never a digit of the
last six.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_LONG_DIGITS = re.compile(r"(?<!\d)(\+?\d{4})(\d{6,12})(?!\d)")
NIK_KEPT = 4  # province + regency code: where someone is from, nothing of the check digits


def mask_nik(nik: str) -> str:
    """Keep the province and regency code only: 3273014501900001 -> 3273************."""
    digits = nik.strip()
    return digits[:NIK_KEPT] + "*" * max(len(digits) - NIK_KEPT, 0)


def mask_niks(value: Any) -> Any:
    """A JSON-ready value with every ``"nik"`` field masked (operator answers)."""
    if isinstance(value, dict):
        return {
            k: mask_nik(v) if k == "nik" and isinstance(v, str) else mask_niks(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_niks(v) for v in value]
    return value


def mask_phone(phone: str) -> str:
    """Keep the country/operator prefix and the last 3 digits: 62812*****678."""
    p = phone.strip()
    n = len(p)
    if n <= 6:
        return "*" * n
    # A short number (a short code, a typo, a local number) keeps at most half of it:
    # head and tail of a full one would overlap and show every digit.
    hidden = n - 8 if n >= 12 else (n + 1) // 2
    tail = min(3, (n - hidden) // 2)
    head = n - hidden - tail
    return p[:head] + "*" * hidden + p[n - tail :]


def mask_name(name: str) -> str:
    """First letter of each word: 'Siti Nurhaliza' -> 'S*** N*******'."""
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split() if w)


def redact(text: str) -> str:
    """Mask any run of 10-16 digits (NIKs, phone numbers) in free text, keeping the first 4."""
    return _LONG_DIGITS.sub(lambda m: m.group(1) + "*" * len(m.group(2)), text)


_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Masks long digit runs in every record: message, exception text, traceback, stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info:
            # Formatted here, masked, and kept as text: the handler's formatter then
            # prints this text instead of formatting the exception again.
            text = record.exc_text or _FORMATTER.formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text), None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
