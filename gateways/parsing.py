"""What every dialect module shares: the 400 reason, UTF-8 bodies, phones and text fields."""

from __future__ import annotations

from core.phone import normalise_phone


class BadRequest(ValueError):
    """The request is malformed; the message is the reason sent back with 400."""


MAX_SESSION_ID = 128
MAX_INPUT = 1024


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"body is not valid UTF-8 (byte {exc.start})") from None


def msisdn(raw: object, field: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest(f"field {field!r} (the phone number) is missing")
    result = normalise_phone(raw)
    if not result.ok:
        raise BadRequest(f"field {field!r}: {result.reason}")
    return result.value


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
