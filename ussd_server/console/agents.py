"""The agents file as the running console sees it: read again only when it changes.

Sign-ins and every signed-in request ask it. A ``stat`` per question tells whether
``console-agent`` rewrote the file (it replaces the file, so the inode changes even
within one mtime tick); only then is it read again. So a removed agent or a changed
password counts from the next request on, without a read per request.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ussd_server.console.passwords import (
    AGENT_NAME,
    AgentFileError,
    dummy_hash,
    read_agents,
    verify_password,
)

Stamp = tuple[int, int, int] | None  # (inode, mtime ns, size); None: no file


class AgentFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: Stamp = (-1, -1, -1)  # never a real file's: the first ask reads
        self._agents: dict[str, str] = {}

    def _current_stamp(self) -> Stamp:
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:  # not "the database is away": say which file
            raise AgentFileError(f"{self.path}: {exc.strerror}") from None
        return (status.st_ino, status.st_mtime_ns, status.st_size)

    def agents(self) -> dict[str, str]:
        """name -> stored hash, as the file says now (AgentFileError if it is broken)."""
        stamp = self._current_stamp()
        if stamp != self._stamp:
            try:
                agents = read_agents(self.path)  # raises before the cache is replaced
            except OSError as exc:
                raise AgentFileError(f"{self.path}: {exc.strerror}") from None
            self._agents, self._stamp = agents, stamp
        return self._agents

    def known(self, name: str) -> bool:
        return AGENT_NAME.match(name) is not None and name in self.agents()

    def fingerprint(self, name: str) -> str | None:
        """What a session remembers of its sign-in: a digest of ``name``'s stored hash
        (a new salt each time a password is set), or None when there is no such agent."""
        stored = self.agents().get(name) if AGENT_NAME.match(name) else None
        return None if stored is None else _digest(stored)

    def check(self, name: str, password: str) -> str | None:
        """``name``'s fingerprint if this is their password, else None (blocking scrypt:
        run it in a thread). An unknown name is checked against a dummy hash, so the
        time taken does not tell which names exist."""
        stored = self.agents().get(name) if AGENT_NAME.match(name) else None
        matched = verify_password(stored or dummy_hash(), password)
        return _digest(stored) if matched and stored is not None else None


def _digest(stored: str) -> str:
    return hashlib.sha256(("agent-session:" + stored).encode()).hexdigest()[:32]
