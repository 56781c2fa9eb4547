"""Redis key names of the dialogue engine: sessions, resume snapshots, language.

Everything about one subscriber's dialogue shares the hash tag ``{s:<msisdn>}``,
so one MGET reads session, resume state and language in one slot.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.keys import KeySpace


@dataclass(frozen=True)
class DialogueKeys(KeySpace):
    def dialogue_session(self, dialect: str, session_id: str, msisdn: str) -> str:
        """JSON blob: one gateway session (screen, back stack, vars, last reply)."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:sess:{dialect}:{session_id}"

    def dialogue_resume(self, msisdn: str) -> str:
        """JSON blob: where an unfinished registration stopped (TTL = resume window)."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:resume"

    def dialogue_language(self, msisdn: str) -> str:
        """The subscriber's chosen language ("id" or "en")."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:lang"

    def ticket_resend_guard(self, msisdn: str) -> str:
        """Present while a ticket re-send is rate-limited for this phone."""
        return f"{self.prefix}:s:{{s:{msisdn}}}:resend"
