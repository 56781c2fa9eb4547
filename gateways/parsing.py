"""What every dialect module shares: the 400 reason, UTF-8 and JSON bodies, phones, fields."""

from __future__ import annotations

import json
from string import hexdigits
from typing import Any
from urllib.parse import unquote_plus

from core.phone import phone_problem_or_value


class BadRequest(ValueError):
    """The request is malformed; the message is the reason sent back with 400."""


MAX_SESSION_ID = 128
MAX_INPUT = 1024
# Hop numbers count the hops of one session: a few dozen. Anything near 2**31 is garbage,
# and numbers past 64 bits would not even fit the session record.
MAX_HOP = 2**31 - 1


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"body is not valid UTF-8 (byte {exc.start})") from None


def json_object(body: bytes) -> dict[str, Any]:
    """A JSON object body, or BadRequest saying what is wrong (never a 500)."""
    try:
        data = json.loads(decode(body))
    except json.JSONDecodeError as exc:
        raise BadRequest(f"body is not JSON: {exc.msg} at {exc.pos}") from None
    except RecursionError:
        raise BadRequest("body is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise BadRequest(f"body is not usable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def hop_number(data: dict[str, Any], field: str) -> int | None:
    """An optional hop counter: a whole number from 0 to MAX_HOP."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_HOP:
        raise BadRequest(f"field {field!r} must be a whole number from 0 to {MAX_HOP}")
    return value


# Every hop of a session carries the same phone and service code: their decoded and
# normalised forms are kept (short values only, emptied when full) rather than worked
# out again a dozen times per registration.
MEMO_LIMIT = 4096
MEMO_MAX_CHARS = 64
_PHONES: dict[str, str] = {}
_UNQUOTED: dict[str, str] = {}


def _remember(memo: dict[str, str], raw: str, value: str) -> str:
    if len(raw) <= MEMO_MAX_CHARS:
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        memo[raw] = value
    return value


def msisdn(raw: object, field: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest(f"field {field!r} (the phone number) is missing")
    known = _PHONES.get(raw)
    if known is not None:
        return known
    value, problem = phone_problem_or_value(raw)  # the one normaliser, without its result object
    if problem:
        raise BadRequest(f"field {field!r}: {problem}")
    return _remember(_PHONES, raw, value)


def text_field(data: dict, field: str, *, required: bool = True, limit: int = MAX_INPUT) -> str:
    value = data.get(field)
    if value is None:
        if required:
            raise BadRequest(f"field {field!r} is missing")
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"field {field!r} must be a string")
    if len(value) > limit:
        raise BadRequest(f"field {field!r} is longer than {limit} characters")
    if required and field.lower().startswith("session") and not value.strip():
        raise BadRequest(f"field {field!r} is empty")
    return value


# "%2B" -> b"+", any case: a form value's escapes decoded by table (urllib's unquote_plus
# cost a tenth of a whole USSD hop, three fields a hop).
_HEX_BYTE = {a + b: bytes.fromhex(a + b) for a in hexdigits for b in hexdigits}


def unquote_form(value: str) -> str:
    """A urlencoded form value decoded as ``unquote_plus(value, errors="strict")`` does:
    ``+`` is a space, ``%XX`` a byte, a malformed escape stays as written, and bytes that
    are not UTF-8 raise UnicodeDecodeError."""
    known = _UNQUOTED.get(value)
    if known is not None:
        return known
    return _remember(_UNQUOTED, value, _unquote(value))


def _unquote(value: str) -> str:
    value = value.replace("+", " ")
    if "%" not in value:
        return value
    if not value.isascii():
        return unquote_plus(value, errors="strict")
    first, *escaped = value.split("%")
    out = bytearray(first.encode())
    for piece in escaped:
        byte = _HEX_BYTE.get(piece[:2])
        if byte is None:
            out += b"%" + piece.encode()
        else:
            out += byte
            out += piece[2:].encode()
    return out.decode("utf-8")
