"""Ticket codes, the signed QR payload and the QR images.

Payload: ``VX1.<code>.<facility>.<yyyymmdd>.<session>.<dose>.<sig>`` where sig is
the first 16 base32 characters (80 bits) of HMAC-SHA256 over everything before
it. No NIK, no name: a photographed QR leaks only the appointment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import date

import qrcode
import qrcode.image.svg

from core.digits import is_digits
from registration.models import Ticket
from registration.records import day_key, parse_day

PAYLOAD_VERSION = "VX1"
SIG_CHARS = 16


@dataclass(frozen=True, slots=True)
class PayloadFields:
    code: str
    facility_id: str
    day: date
    session_id: str
    dose: int


class TicketSigner:
    def __init__(self, key: str, alphabet: str, code_length: int) -> None:
        if not key:
            raise ValueError("ticket signing key is empty")
        self._key = key.encode("utf-8")
        self.alphabet, self.code_length = alphabet, code_length

    def new_code(self) -> str:
        """Each symbol uniform over the alphabet, from one read of the system's randomness
        (a read per symbol cost a system call each): bytes at or past the largest multiple
        of the alphabet's size are skipped, so ``byte % size`` favours no symbol."""
        alphabet, length = self.alphabet, self.code_length
        size = len(alphabet)
        if size > 256:
            return "".join(secrets.choice(alphabet) for _ in range(length))
        limit = 256 - 256 % size
        symbols: list[str] = []
        while len(symbols) < length:
            symbols += [alphabet[b % size] for b in secrets.token_bytes(2 * length) if b < limit]
        return "".join(symbols[:length])

    def looks_like_code(self, text: str) -> bool:
        return len(text) == self.code_length and all(c in self.alphabet for c in text)

    def _sig(self, body: str) -> str:
        mac = hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()
        return base64.b32encode(mac).decode("ascii")[:SIG_CHARS]

    def payload(self, code: str, facility_id: str, day: date, session_id: str, dose: int) -> str:
        body = f"{PAYLOAD_VERSION}.{code}.{facility_id}.{day_key(day)}.{session_id}.{dose}"
        return f"{body}.{self._sig(body)}"

    def verify(self, payload: str) -> PayloadFields | None:
        """The fields of a payload whose signature is right, else None (forged or garbled)."""
        if not payload.isascii():  # never signed by us; and HMAC would not take it
            return None
        parts = payload.strip().split(".")
        if len(parts) != 7 or parts[0] != PAYLOAD_VERSION:
            return None
        body, sig = ".".join(parts[:6]), parts[6].upper()
        if not hmac.compare_digest(self._sig(body).encode(), sig.encode("ascii", "replace")):
            return None
        day = parse_day(parts[3])
        if day is None or not is_digits(parts[5]):
            return None
        return PayloadFields(parts[1], parts[2], day, parts[4], int(parts[5]))


def is_payload(text: str) -> bool:
    return text.strip().upper().startswith(PAYLOAD_VERSION + ".")


def matches(ticket: Ticket, fields: PayloadFields) -> bool:
    return (
        ticket.code == fields.code
        and ticket.facility_id == fields.facility_id
        and ticket.day == fields.day
        and ticket.session_id == fields.session_id
        and ticket.dose == fields.dose
    )


def _qr(payload: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    qr.add_data(payload)
    qr.make(fit=True)
    return qr


def qr_png(payload: str) -> bytes:
    buffer = io.BytesIO()
    _qr(payload).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(payload: str) -> bytes:
    buffer = io.BytesIO()
    _qr(payload).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()
