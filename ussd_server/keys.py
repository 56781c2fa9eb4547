"""Redis key names of the app shell (public routes, the operator console, activity counts)."""

from __future__ import annotations

from dataclasses import dataclass

from core.keys import KeySpace


@dataclass(frozen=True)
class ShellKeys(KeySpace):
    def ticket_probe(self, address: str) -> str:
        """Counter of unknown ticket codes asked for by one client address (TTL = window)."""
        return f"{self.prefix}:http:{{h:{address}}}:ticket-misses"

    def console_session(self, session_id: str) -> str:
        """Hash: one console sign-in (agent, how) and the registrant references it handed
        out (``ref:<id>`` -> NIK, so no NIK travels in a page); TTL = the session's life."""
        return f"{self.prefix}:console:{{s:{session_id}}}:session"

    def console_login_failures(self, address: str) -> str:
        """Counter of failed console sign-ins from one client address (TTL = window)."""
        return f"{self.prefix}:console:{{l:{address}}}:login-failures"

    def console_audit(self) -> str:
        """List of help-desk actions, newest first, trimmed to ``[console] audit_max_entries``."""
        return f"{self.prefix}:console:audit"

    def activity(self, day: str) -> str:
        """Hash of one local day's counts: ``booked:<channel>``, ``screened:<outcome>``..."""
        return f"{self.prefix}:activity:{{a:{day}}}:counts"
