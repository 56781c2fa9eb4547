"""Masking of personal data for logs and screens.

A NIK, a name or a phone number never reaches a log in clear. Call these at the
point of logging; :class:`RedactingFilter` is a last line of defence that masks
any 10-16 digit run that slips through.
"""

from __future__ import annotations

import logging
import re

_LONG_DIGITS = re.compile(r"(?<!\d)(\+?\d{6,12})(\d{4})(?!\d)")


def mask_nik(nik: str) -> str:
    """Keep only the last 4 digits: 3201xxxxxxxx1234 -> ************1234."""
    digits = nik.strip()
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_phone(phone: str) -> str:
    """Keep the country/operator prefix and the last 3 digits: 62812*****678."""
    p = phone.strip()
    if len(p) <= 6:
        return "*" * len(p)
    return p[:5] + "*" * (len(p) - 8) + p[-3:]


def mask_name(name: str) -> str:
    """First letter of each word: 'Siti Nurhaliza' -> 'S*** N*******'."""
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split() if w)


def redact(text: str) -> str:
    """Mask any run of 10-16 digits (NIKs, phone numbers) in free text."""
    return _LONG_DIGITS.sub(lambda m: "*" * len(m.group(1)) + m.group(2), text)


class RedactingFilter(logging.Filter):
    """Masks long digit runs in every record's formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
