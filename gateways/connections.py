"""How many gateway connections one worker holds open at most.

Each is a file descriptor; when a flood of idle or half-sent connections takes them
all, the process can no longer open its Redis connections or accept on the main
port. Past the cap a new connection gets 503 and is closed at once.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass


def connection_cap(share: float = 0.5) -> int:
    """`share` of the process's open-files limit (the rest: Redis, the main port, files)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 100_000
    return max(64, int(soft * share))


MAX_CONNECTIONS = connection_cap()


@dataclass
class OpenConnections:
    """The connections of one listener (shared by its protocols)."""

    count: int = 0
