"""One way to compare a secret a peer presents (a token, a signature, a signed cookie,
a form's CSRF token) with ours: in constant time, and never an error.

``hmac.compare_digest`` refuses two ``str`` when either holds a character outside
ASCII (TypeError), and ``str.encode()`` refuses the surrogates aiohttp decodes a
header's non-UTF-8 bytes into (UnicodeEncodeError). Either turned a wrong secret into
a 500 and a traceback; here it is just wrong.
"""

from __future__ import annotations

import hmac


def _as_bytes(value: str | bytes) -> bytes:
    # surrogatepass encodes every str, lone surrogates included, so this cannot raise.
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def same_secret(given: str | bytes | None, expected: str | bytes) -> bool:
    """Whether ``given`` equals ``expected`` (compared in constant time)."""
    return hmac.compare_digest(_as_bytes(given or b""), _as_bytes(expected))
