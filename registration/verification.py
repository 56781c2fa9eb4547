"""(phone, last 6 NIK digits) -> the registrant, with attempt counting and lockout.

The phone is normalised here, the digits stripped of spaces; the store decides
atomically: locked? listed? which NIK of the household ends in these digits?
(see :meth:`RegistrantStore.verify`). A malformed answer (not 6 digits) is
reported as wrong but not counted: it cannot be a guess, only a typo. Wrong answers
count per phone, a right one in between clears nothing (two health workers of one
household share a phone: one's right answer must not forgive guesses at the
other's); the third within ``lockout_seconds`` locks the phone. A channel that may
deliver one user action twice at once (a double tap, a retransmit to another worker)
names the action (``attempt``): the same answer to the same action counts once. On a match
the store hands the registrant's whole record over with it: the dialogue asks for
the status right after verifying, in the same hop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from core import metrics
from core.phone import normalise_phone
from registration.models import Verification, VerifyOutcome
from registration.stores import Lockout, RegistrantRecord, RegistrantStore


class Verifier:
    def __init__(self, registrants: RegistrantStore, lockout: Lockout) -> None:
        self._registrants, self._lockout = registrants, lockout

    async def verify(
        self, phone: str, last6: str, attempt: str = ""
    ) -> tuple[Verification, Callable[[], RegistrantRecord] | None]:
        """The verification, and on OK the registrant's record (parsed when called)."""
        normalised = normalise_phone(phone)
        if not normalised.ok:
            return Verification(VerifyOutcome.NOT_LISTED), None
        digits = "".join(last6.split())
        answer = answer_id(attempt, digits) if attempt else ""
        reply = await self._registrants.verify(normalised.value, digits, self._lockout, answer)
        limit = self._lockout.max_attempts
        if reply.outcome is VerifyOutcome.LOCKED:
            if reply.locked_now:
                metrics.LOCKOUTS.inc()
            ms = reply.locked_ms
            seconds = max((ms + 999) // 1000, 1) if ms > 0 else self._lockout.seconds
            return Verification(VerifyOutcome.LOCKED, locked_seconds=seconds), None
        if reply.outcome is VerifyOutcome.WRONG_DIGITS:
            left = max(limit - reply.wrong_attempts, 0)
            return Verification(VerifyOutcome.WRONG_DIGITS, attempts_left=left), None
        if reply.outcome is VerifyOutcome.OK and reply.worker is not None:
            ok = Verification(VerifyOutcome.OK, worker=reply.worker, attempts_left=limit)
            return ok, reply.record
        return Verification(VerifyOutcome.NOT_LISTED), None


def answer_id(attempt: str, digits: str) -> str:
    """One answer to one user action: the action and the digits, hashed (the store keeps
    the id for the lockout window; a wrong guess is often a NIK's digits but for one).
    With the digits in it, an id used again is the same guess again: not counting it
    tells nobody anything, and a right answer is still checked (and accepted)."""
    return hashlib.blake2b(f"{attempt}|{digits}".encode(), digest_size=9).hexdigest()
