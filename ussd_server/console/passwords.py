"""Per-agent console passwords: ``name:<scrypt hash>`` lines in ``[console] agents_file``.

A hash is ``scrypt$<n>$<r>$<p>$<salt>$<key>`` (salt and key in base64), so the cost
can be raised later without breaking old lines. Checking costs tens of
milliseconds of CPU on purpose: callers run it in a thread, never on the event
loop. An unknown name is checked against a dummy hash, so the time taken does
not tell which names exist. Written by ``python -m ussd_server console-agent``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

AGENT_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")  # the same as operator token labels
N, R, P = 2**14, 8, 1  # about 16 MB and 50 ms per check
KEY_BYTES = 32
MIN_PASSWORD = 10


class AgentFileError(ValueError):
    """A bad name, a short password or an unreadable line."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=KEY_BYTES)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(key)}"


def verify_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=2**26,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


@functools.cache
def dummy_hash() -> str:
    """A hash to check unknown names against (made on first use, not at import)."""
    return hash_password(secrets.token_hex(8))


def read_agents(path: Path) -> dict[str, str]:
    """name -> stored hash; a missing file is no agents (operator tokens still work)."""
    if not path.exists():
        return {}
    agents: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        if not sep or not AGENT_NAME.match(name):
            raise AgentFileError(f"{path} line {number}: expected name:<hash>")
        agents[name] = stored
    return agents


def check_agent(path: Path, name: str, password: str) -> bool:
    """Whether ``name`` is in the file with this password (blocking: run it in a thread)."""
    stored = read_agents(path).get(name) if AGENT_NAME.match(name) else None
    matched = verify_password(stored or dummy_hash(), password)
    return matched and stored is not None


def check_agent_name(name: str) -> None:
    """AgentFileError unless ``name`` can stand in the file (no ':', no spaces)."""
    if not AGENT_NAME.match(name):
        raise AgentFileError("agent name: 1-64 letters, digits or _ . @ -")


def set_agent(path: Path, name: str, password: str) -> bool:
    """Add ``name`` or change its password; True when it was new. The file stays 0600."""
    check_agent_name(name)
    if len(password) < MIN_PASSWORD:
        raise AgentFileError(f"password: at least {MIN_PASSWORD} characters")
    agents = read_agents(path)
    new = name not in agents
    agents[name] = hash_password(password)
    _write(path, agents)
    return new


def remove_agent(path: Path, name: str) -> bool:
    agents = read_agents(path)
    if agents.pop(name, None) is None:
        return False
    _write(path, agents)
    return True


def _write(path: Path, agents: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    text = "".join(f"{name}:{stored}\n" for name, stored in sorted(agents.items()))
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(partial, path)  # readers see the old file or the new one, never half


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
