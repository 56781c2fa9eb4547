"""Redis key names of the registration website.

A browser session's state has the tag ``{b:<session hash>}``; a phone's one-time
code and its send counter share ``{o:<phone>}`` (one script issues or checks a
code in one slot); a client address's send counter has ``{a:<address>}``.
The session id itself never appears in a key name: only its hash does.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.keys import KeySpace


@dataclass(frozen=True)
class WebKeys(KeySpace):
    def web_state(self, session_hash: str) -> str:
        """JSON: one browser session (language, phone pending or proven, hop number)."""
        return f"{self.prefix}:web:{{b:{session_hash}}}:state"

    def web_code(self, phone: str) -> str:
        """Hash: the phone's current one-time code (its HMAC, wrong tries); TTL = validity."""
        return f"{self.prefix}:web:{{o:{phone}}}:code"

    def web_code_sends(self, phone: str) -> str:
        """Counter: codes sent to this phone in the current window."""
        return f"{self.prefix}:web:{{o:{phone}}}:sends"

    def web_client_sends(self, address: str) -> str:
        """Counter: codes asked for from this client address in the current window."""
        return f"{self.prefix}:web:{{a:{address}}}:sends"
