"""Sessions in Redis over the process's lean pipelined connection (``core.redis_lean``).

Round trips per hop: one MGET (session and language, and the resume snapshot on a new
dial: one hash slot, see ``dialogue.keys``) and one write, a pipeline of two or three
commands only when the resume snapshot or the phone's language changes with it.
"""

from __future__ import annotations

from core.redis_lean import FastRedis
from dialogue.keys import DialogueKeys
from dialogue.session import ResumeWrite, Session, SessionRef, Stored, decode, encode


class RedisSessionStore:
    """The :class:`dialogue.session.SessionStore` of a running service."""

    def __init__(self, kv: FastRedis, keys: DialogueKeys) -> None:
        # Usually the connection the Registry and the outbox share: one per process.
        self._kv, self._keys = kv, keys

    def _session_key(self, ref: SessionRef) -> str:
        return self._keys.dialogue_session(ref.dialect, ref.session_id, ref.msisdn)

    async def load(self, ref: SessionRef, *, with_resume: bool) -> Stored:
        keys = self._keys
        if with_resume:
            raw, resume, lang = await self._kv.execute(
                "MGET",
                self._session_key(ref),
                keys.dialogue_resume(ref.msisdn),
                keys.dialogue_language(ref.msisdn),
            )
            return Stored(decode(raw), decode(resume), lang)
        raw, lang = await self._kv.execute(
            "MGET", self._session_key(ref), keys.dialogue_language(ref.msisdn)
        )
        return Stored(decode(raw), None, lang)

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
        blob = encode(session)  # the resume snapshot is the session itself: one encoding
        writes: list[tuple[object, ...]] = [
            ("SET", self._session_key(ref), blob, "EX", ttl_seconds)
        ]
        resume_key = self._keys.dialogue_resume(ref.msisdn)
        if resume is ResumeWrite.SNAPSHOT:
            writes.append(("SET", resume_key, blob, "EX", resume_ttl_seconds))
        elif resume is ResumeWrite.CLEAR:
            writes.append(("DEL", resume_key))
        if language:  # as long-lived as before: no expiry
            writes.append(("SET", self._keys.dialogue_language(ref.msisdn), language))
        if len(writes) == 1:
            await self._kv.execute(*writes[0])
        else:
            await self._kv.execute_many(*writes)

    async def resume(self, msisdn: str) -> Session | None:
        return decode(await self._kv.execute("GET", self._keys.dialogue_resume(msisdn)))

    async def drop(self, ref: SessionRef) -> None:
        await self._kv.execute("DEL", self._session_key(ref))

    async def discard_resume(self, msisdn: str) -> None:
        await self._kv.execute("DEL", self._keys.dialogue_resume(msisdn))

    async def set_language(self, msisdn: str, lang: str) -> None:
        await self._kv.execute("SET", self._keys.dialogue_language(msisdn), lang)

    async def claim_resend(self, msisdn: str, code: str, seconds: int) -> bool:
        guard = self._keys.ticket_resend_guard(msisdn)
        return await self._kv.execute("SET", guard, code, "NX", "EX", seconds) is not None
