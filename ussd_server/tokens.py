"""Operator bearer tokens, each with a label that names its holder in the logs.

The token file (``[operator_api] token_file`` or ``USSD_OPERATOR_API_TOKEN``) holds
one token, or one ``label:token`` per line (a token per agent or team), so a log
line can say who asked for what without ever printing a token.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from core.config import ConfigError
from core.secret_compare import same_secret

_LABEL = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True, slots=True)
class OperatorTokens:
    by_token: dict[bytes, str]  # token -> label

    @classmethod
    def parse(cls, text: str) -> OperatorTokens:
        """One bare token (label "operator") or ``label:token`` lines; short ones refused."""
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        pairs = []
        for number, line in enumerate(lines, start=1):
            label, sep, token = line.rpartition(":")
            if not sep:
                label, token = "operator", line
            if not _LABEL.match(label):
                raise ConfigError(f"operator token line {number}: label must be letters/digits")
            if len(token) < MIN_TOKEN_LENGTH:
                raise ConfigError(
                    f"operator token line {number}: at least {MIN_TOKEN_LENGTH} characters"
                )
            pairs.append((token.encode(), label))
        if not pairs:
            raise ConfigError("no operator token given")
        return cls(dict(pairs))

    def fingerprints(self) -> frozenset[str]:
        """Every token's fingerprint (what a console sign-in keeps of its token)."""
        return frozenset(token_fingerprint(token) for token in self.by_token)

    def label_for(self, authorization: str) -> str | None:
        """The holder of ``Authorization: Bearer <token>``, or None (compared in constant time)."""
        scheme, _, given = authorization.partition(" ")
        found = None
        for token, label in self.by_token.items():
            # Every token is compared, so the time taken says nothing about which matched.
            if same_secret(given.strip(), token) and scheme.lower() == "bearer":
                found = label
        return found


def token_fingerprint(token: bytes) -> str:
    """A token's one-way fingerprint: a console session signed in with it keeps this, so
    the session ends once the token is no longer in the file (not the token itself)."""
    return hashlib.sha256(b"console-token:" + token).hexdigest()[:32]
