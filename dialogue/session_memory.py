"""Sessions in a dict, for unit tests of the dialogue: same contract as the Redis store.

Blobs are kept encoded, as Redis keeps them, so a test also covers the encoding
and no object is shared between a session and its resume snapshot. Expiry
follows the given clock (seconds), so a test can let a session time out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dialogue.session import ResumeWrite, Session, SessionRef, Stored, decode, encode


class MemorySessionStore:
    """A :class:`dialogue.session.SessionStore` in process memory (one process, tests)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._values: dict[tuple[str, ...], tuple[bytes | str, float | None]] = {}

    # --- a tiny key-value store with expiry ---------------------------------------------
    def _get(self, key: tuple[str, ...]) -> bytes | str | None:
        hit = self._values.get(key)
        if hit is None:
            return None
        value, expires = hit
        if expires is not None and expires <= self._clock():
            del self._values[key]
            return None
        return value

    def _set(self, key: tuple[str, ...], value: bytes | str, ttl: float | None = None) -> None:
        self._values[key] = (value, None if ttl is None else self._clock() + ttl)

    @staticmethod
    def _session_key(ref: SessionRef) -> tuple[str, ...]:
        return ("session", ref.dialect, ref.session_id, ref.msisdn)

    # --- the SessionStore contract ------------------------------------------------------
    async def load(self, ref: SessionRef, *, with_resume: bool) -> Stored:
        language = self._get(("language", ref.msisdn))
        resume = decode(self._get(("resume", ref.msisdn))) if with_resume else None
        session = decode(self._get(self._session_key(ref)))
        return Stored(session, resume, language if isinstance(language, str) else None)

    async def save(
        self,
        ref: SessionRef,
        session: Session,
        ttl_seconds: int,
        resume: ResumeWrite = ResumeWrite.KEEP,
        resume_ttl_seconds: int = 0,
        *,
        language: str = "",
    ) -> None:
        blob = encode(session)
        if language:
            self._set(("language", ref.msisdn), language)
        self._set(self._session_key(ref), blob, ttl_seconds)
        if resume is ResumeWrite.SNAPSHOT:
            self._set(("resume", ref.msisdn), blob, resume_ttl_seconds)
        elif resume is ResumeWrite.CLEAR:
            self._values.pop(("resume", ref.msisdn), None)

    async def resume(self, msisdn: str) -> Session | None:
        return decode(self._get(("resume", msisdn)))

    async def drop(self, ref: SessionRef) -> None:
        self._values.pop(self._session_key(ref), None)

    async def discard_resume(self, msisdn: str) -> None:
        self._values.pop(("resume", msisdn), None)

    async def set_language(self, msisdn: str, lang: str) -> None:
        self._set(("language", msisdn), lang)

    async def claim_resend(self, msisdn: str, code: str, seconds: int) -> bool:
        if self._get(("resend", msisdn)) is not None:
            return False
        self._set(("resend", msisdn), code, seconds)
        return True
