"""A master killed (kill -9) in the middle of a blast, on a cluster with replicas.

With ``[redis] wait_replicas = 1`` the blast's record of what it sent reaches a replica
before it counts, so the promoted replica knows it: nobody is lost, and what is sent
twice is bounded by what was in flight (taken from the queue, not yet recorded).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from devtools.local_cluster import LocalCluster
from smpp import campaigns
from smpp.campaign_store import CampaignStore
from smpp.settings import blast_settings
from tests import conftest
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_smpp_support import Sim, blast_process, seed_workers, sim_fixture  # noqa: F401

pytestmark = pytest.mark.cluster
TEMPLATE = "Halo {first_name}, Anda calon penerima Vaksin COVID-19. Balas {keyword}."
WINDOW = 20
TOTAL = 3000


@pytest.fixture(autouse=True)
def failover_cluster() -> Iterator[LocalCluster]:
    """3 masters + 3 replicas, the one this module's tests (and their processes) use."""
    cluster = LocalCluster(masters=3, replicas=1, node_timeout_ms=1000).start()
    conftest._target["url"] = cluster.url
    try:
        yield cluster
    finally:
        conftest._target["url"] = conftest.TEST_REDIS_URL
        cluster.stop()


async def _submitted(store: CampaignStore) -> int:
    try:
        progress = await campaigns.progress(store, "k")
    except (RedisError, OSError):  # during the failover
        return -1
    return int(progress["submitted"]) if progress else -1


async def test_a_killed_master_mid_blast_loses_nobody(
    failover_cluster: LocalCluster,
    sim: Sim,
    redis: aioredis.Redis,
    keys: AllKeys,
    key_prefix: str,
) -> None:
    await sim.call("/config", {"receipts": False})
    workers = await seed_workers(redis, keys, TOTAL)
    store = CampaignStore(redis, keys)
    blast = blast_settings(make_test_config(key_prefix))
    assert (await campaigns.create(store, blast, "k", TEMPLATE, {}, False))["state"] == "draft"
    proc = blast_process(sim, key_prefix, "k", window=WINDOW, USSD_REDIS_WAIT_REPLICAS="1")
    try:
        for _ in range(3000):
            if await _submitted(store) >= TOTAL // 4:
                break
            await asyncio.sleep(0.01)
        victim = failover_cluster.master_ports()[0]
        failover_cluster.kill(victim)
        await asyncio.to_thread(failover_cluster.wait_promoted, victim)
        # Until it has a replica again the promoted master cannot satisfy WAIT: the blast
        # pauses (keeping its answers in memory). A supervisor restarts the dead node.
        await asyncio.to_thread(failover_cluster.restart, victim)
        assert await asyncio.to_thread(proc.wait, 180) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    progress = await campaigns.progress(store, "k")
    assert (progress["state"], progress["queued"], progress["in_flight"]) == ("done", 0, 0)
    counts = await sim.call("/counts")
    assert all(counts.get(phone, 0) >= 1 for _, phone in workers)  # nobody lost
    duplicates = sum(counts.values()) - TOTAL
    # At most what was in flight at the kill: one batch taken from the queue (its TAKE
    # may not have reached the replica) and the SMSC window of unrecorded answers.
    assert 0 <= duplicates <= blast.batch_size + WINDOW, duplicates
