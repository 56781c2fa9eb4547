"""The Redis the cluster benchmark compares against: one server with one replica (and,
for the far-replica benchmark, that replica behind a delay)."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.delay_proxy import DelayProxy
from devtools.local_cluster import free_ports
from devtools.private_redis import PrivateRedis


@dataclass(frozen=True)
class Target:
    name: str
    url: str


@contextmanager
def single_with_replica(delay_ms: float = 0) -> Iterator[Target]:
    """A redis-server and its replica (no persistence) in a temporary directory; with
    ``delay_ms``, replicating through a :class:`DelayProxy` that far away each way."""
    with tempfile.TemporaryDirectory(prefix="vx-single-") as folder:
        master_port, replica_port, proxy_port = free_ports(3)
        upstream = master_port
        if delay_ms:
            upstream = DelayProxy(proxy_port, master_port, delay_ms).port
        master = PrivateRedis(master_port, Path(folder) / "master", appendonly=False)
        replica = PrivateRedis(replica_port, Path(folder) / "replica", appendonly=False)
        master.start()
        try:
            replica.start()
            try:
                cli = ["redis-cli", "-p", str(replica_port)]
                subprocess.run([*cli, "REPLICAOF", "127.0.0.1", str(upstream)], check=True,
                               capture_output=True)  # fmt: skip
                deadline = time.monotonic() + 30
                while (
                    b"master_link_status:up"
                    not in subprocess.run(
                        [*cli, "INFO", "replication"], capture_output=True, check=True
                    ).stdout
                ):
                    if time.monotonic() > deadline:
                        raise RuntimeError("the replica did not catch up")
                    time.sleep(0.1)
                yield Target("single Redis", master.url)
            finally:
                replica.stop()
        finally:
            master.stop()
