"""Redis key names of the app shell (the public HTTP routes)."""

from __future__ import annotations

from dataclasses import dataclass

from core.keys import KeySpace


@dataclass(frozen=True)
class ShellKeys(KeySpace):
    def ticket_probe(self, address: str) -> str:
        """Counter of unknown ticket codes asked for by one client address (TTL = window)."""
        return f"{self.prefix}:http:{{h:{address}}}:ticket-misses"
