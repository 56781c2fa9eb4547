"""Redis Cluster plumbing shared by the clients: cluster URLs, hash slots, the slot map.

A cluster is named by ``redis+cluster://[user:password@]host:port[,host:port...]`` (the
seed nodes; any one reachable node is enough) or by ``[redis] cluster = true`` with a
plain ``redis://`` URL. A key's slot is CRC16 (XMODEM, which is ``binascii.crc_hqx``
with seed 0: C speed, no Python loop) of its hash tag ``{...}`` modulo 16384, exactly as
Redis computes it. :class:`SlotMap` turns a ``CLUSTER SLOTS`` reply into a slot ->
master lookup; :func:`command_key` says which key routes a command.
"""

from __future__ import annotations

from binascii import crc_hqx
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

SLOTS = 16384
CLUSTER_SCHEME = "redis+cluster"
# Commands without a key: sent to any master (PING, SCRIPT LOAD go to every master).
KEYLESS = frozenset({"PING", "SCRIPT", "INFO", "TIME", "CLUSTER", "ECHO", "DBSIZE", "READONLY"})


@dataclass(frozen=True)
class ClusterAddress:
    """Where a cluster is: its seed nodes and the credentials every node shares."""

    seeds: tuple[tuple[str, int], ...]
    username: str | None = None
    password: str | None = None


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEME + "://")


def parse_cluster_url(url: str) -> ClusterAddress:
    """Seeds of ``redis+cluster://`` (or of a plain ``redis://`` URL: its one node)."""
    scheme, _, rest = url.partition("://")
    if scheme not in (CLUSTER_SCHEME, "redis"):
        raise ValueError(f"not a Redis cluster URL: {scheme}://...")
    creds, _, hosts = rest.rpartition("@")
    hosts = hosts.split("/", 1)[0]
    seeds: list[tuple[str, int]] = []
    for part in hosts.split(","):
        parsed = urlparse("redis://" + part.strip())
        seeds.append((parsed.hostname or "127.0.0.1", parsed.port or 6379))
    user, _, password = creds.partition(":") if creds else ("", "", "")
    return ClusterAddress(
        tuple(seeds), unquote(user) or None, unquote(password) if password else None
    )


def key_slot(key: str | bytes) -> int:
    """The hash slot of a key: CRC16 of its first non-empty ``{tag}``, else of the key."""
    raw = key.encode() if isinstance(key, str) else key
    start = raw.find(b"{")
    if start != -1:
        end = raw.find(b"}", start + 1)
        if end > start + 1:
            raw = raw[start + 1 : end]
    return crc_hqx(raw, 0) % SLOTS


def command_key(cmd: Sequence[Any]) -> Any | None:
    """The key that routes a command (None: any node will do)."""
    name = str(cmd[0]).upper()
    if name in ("EVALSHA", "EVAL", "FCALL"):
        return cmd[3] if int(cmd[2]) > 0 else None
    if name in ("XREAD", "XREADGROUP"):
        upper = [str(part).upper() for part in cmd]
        return cmd[upper.index("STREAMS") + 1]
    if name in KEYLESS or len(cmd) < 2:
        return None
    return cmd[1]


def node_name(host: str, port: int) -> str:
    return f"{host}:{port}"


class SlotMap:
    """slot -> the master serving it ("host:port"), from a ``CLUSTER SLOTS`` reply."""

    def __init__(self, reply: list[Any], asked: str) -> None:
        owners: list[str] = [""] * SLOTS
        for start, end, master, *_replicas in reply:
            host = master[0] or asked.rpartition(":")[0]  # "" = the node we asked
            owners[int(start) : int(end) + 1] = [node_name(host, int(master[1]))] * (
                int(end) - int(start) + 1
            )
        self.owners = owners
        self.masters = sorted({owner for owner in owners if owner})

    def node_for(self, cmd: Sequence[Any]) -> str:
        key = command_key(cmd)
        if key is None:
            return self.masters[0]
        return self.owners[key_slot(key)] or self.masters[0]

    def move(self, slot: int, node: str) -> None:
        """A MOVED reply: this slot lives elsewhere now."""
        self.owners[slot] = node
        if node not in self.masters:
            self.masters = sorted({*self.masters, node})
