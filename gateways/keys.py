"""Redis key names of the USSD gateway edge."""

from __future__ import annotations

from dataclasses import dataclass

from core.keys import KeySpace


@dataclass(frozen=True)
class GatewayKeys(KeySpace):
    def ussd_outcomes(self) -> str:
        """Hash: end-of-session notifications counted by dialect and status."""
        return f"{self.prefix}:ussd:outcomes"
