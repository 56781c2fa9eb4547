"""Slots moved between masters (``redis-cli --cluster reshard``) under load: the lean client
follows MOVED and ASK, and every write lands exactly once."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator

import pytest

from core.redis_cluster import parse_cluster_url
from core.redis_lean_cluster import ClusterFastRedis
from devtools.local_cluster import LocalCluster

pytestmark = pytest.mark.cluster
KEYS = 400


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    own = LocalCluster(masters=3).start()
    try:
        yield own
    finally:
        own.stop()


def _node_ids(cluster: LocalCluster) -> dict[int, str]:
    """Master port -> node id."""
    out = subprocess.run(
        ["redis-cli", "-p", str(cluster.ports[0]), "CLUSTER", "NODES"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    ids = {}
    for line in out.splitlines():
        node_id, address, flags = line.split()[:3]
        if "master" in flags:
            ids[int(address.split("@")[0].rsplit(":", 1)[1])] = node_id
    return ids


def _reshard(cluster: LocalCluster, source: str, target: str, slots: int) -> None:
    subprocess.run(
        ["redis-cli", "--cluster", "reshard", f"127.0.0.1:{cluster.ports[0]}",
         "--cluster-from", source, "--cluster-to", target, "--cluster-slots", str(slots),
         "--cluster-yes", "--cluster-pipeline", "10"],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip


async def test_writes_follow_slots_that_move(cluster: LocalCluster) -> None:
    lean = ClusterFastRedis(parse_cluster_url(cluster.url), 10.0)
    keys = [f"t:{{k{i}}}" for i in range(KEYS)]
    done = [0] * KEYS
    moving = True

    async def writer(offset: int) -> None:
        rounds = 0
        while moving or rounds < 3:
            rounds += 1
            for i in range(offset, KEYS, 4):
                await lean.execute("INCR", keys[i])
                done[i] += 1
            # A batch over many slots: its parts are redirected one by one as needed.
            await lean.batch([("INCR", keys[i]) for i in range(offset, KEYS, 8)])
            for i in range(offset, KEYS, 8):
                done[i] += 1

    writers = [asyncio.ensure_future(writer(o)) for o in range(4)]
    try:
        ids = _node_ids(cluster)
        (a, b, c) = sorted(ids)
        await asyncio.to_thread(_reshard, cluster, ids[a], ids[b], 2000)
        await asyncio.to_thread(_reshard, cluster, ids[c], ids[a], 2000)
    finally:
        moving = False
        await asyncio.gather(*writers)
    values = await lean.batch([("GET", key) for key in keys])
    await lean.aclose()
    assert [int(v or 0) for v in values] == done
