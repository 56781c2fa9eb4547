"""Several `blast run` processes on one campaign, against the simulator process: nobody
gets the SMS twice while both live, a killed one's batches are taken over once its
leases expire, and the SMSC account's rate is one budget for all of them."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess

import pytest
import redis.asyncio as aioredis

from smpp import campaigns
from smpp.campaign_store import CampaignStore
from smpp.settings import blast_settings
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_smpp_support import (  # noqa: F401
    Sim,
    blast_process,
    seed_workers,
    sim_fixture,
    sms_process,
)

TEMPLATE = "Halo {first_name}, Anda calon penerima Vaksin COVID-19. Balas {keyword}."
WINDOW = 20


async def start_campaign(redis: aioredis.Redis, keys: AllKeys, prefix: str, total: int):
    workers = await seed_workers(redis, keys, total)
    store = CampaignStore(redis, keys)
    blast = blast_settings(make_test_config(prefix))
    await campaigns.create(store, blast, "w", TEMPLATE, {}, False)
    await campaigns.transition(store, "w", "start")
    return store, workers


def wait_all(procs: list[subprocess.Popen[bytes]], timeout: float = 90) -> list[int]:
    try:
        return [p.wait(timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


async def test_two_senders_share_a_campaign_and_nobody_gets_two(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> None:
    await sim.call("/config", {"receipts": False, "latency": 0.05})  # long enough for both
    store, workers = await start_campaign(redis, keys, key_prefix, 3000)
    procs = [blast_process(sim, key_prefix, "w", window=WINDOW) for _ in range(2)]
    assert wait_all(procs) == [0, 0]
    p = await campaigns.progress(store, "w")
    assert (p["state"], p["submitted"], p["queued"], p["in_flight"]) == ("done", 3000, 0, 0)
    counts = await sim.call("/counts")
    assert {phone: counts.get(phone) for _, phone in workers} == {ph: 1 for _, ph in workers}
    per_bind = (await sim.call("/stats"))["bind_submits"]
    assert len(per_bind) == 2 and all(n > 0 for n in per_bind)  # both sent their share


async def test_a_killed_senders_batches_are_taken_over_after_its_leases_expire(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> None:
    await sim.call("/config", {"receipts": False, "latency": 0.01})
    store, workers = await start_campaign(redis, keys, key_prefix, 4000)
    lease = {"USSD_BLAST_LEASE_SECONDS": "1.5"}
    doomed = blast_process(sim, key_prefix, "w", window=WINDOW, **lease)
    survivor = blast_process(sim, key_prefix, "w", window=WINDOW, **lease)
    try:
        for _ in range(600):
            if (await campaigns.progress(store, "w"))["submitted"] >= 1000:
                break
            await asyncio.sleep(0.01)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
        assert wait_all([survivor]) == [0]
    finally:
        wait_all([doomed, survivor], timeout=1)
    p = await campaigns.progress(store, "w")
    assert (p["state"], p["submitted"], p["queued"], p["in_flight"]) == ("done", 4000, 0, 0)
    counts = await sim.call("/counts")
    assert all(counts.get(phone, 0) >= 1 for _, phone in workers)  # nobody lost
    # Only the killed sender's unrecorded submits (at most its window) went out twice.
    assert 0 <= sum(counts.values()) - 4000 <= WINDOW


@pytest.mark.parametrize(
    ("processes", "binds"), [(2, 1), (1, 2)], ids=["two-processes", "two-binds"]
)
async def test_two_binds_stay_within_the_accounts_rate_together(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str, processes: int, binds: int
) -> None:
    limit, total = 200, 800
    await sim.call("/config", {"receipts": False, "max_rate": limit})
    store, _ = await start_campaign(redis, keys, key_prefix, total)
    # The account's rate: one budget for every bind of every process.
    env = {"USSD_SMPP_RATE": str(limit), "USSD_SMPP_CONNECTIONS": json.dumps([{}] * binds)}
    procs = [blast_process(sim, key_prefix, "w", window=WINDOW, **env) for _ in range(processes)]
    assert wait_all(procs) == [0] * processes
    stats = await sim.call("/stats")
    # The simulator answers RTHROTTLED the moment one second sees more than the limit.
    assert stats["throttled"] == 0
    assert len(stats["bind_submits"]) == 2 and all(n > 0 for n in stats["bind_submits"])
    assert (await campaigns.progress(store, "w"))["submitted"] == total


async def test_two_sms_workers_send_a_started_campaign_and_count_every_receipt(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> None:
    # The simulator answers 100 ms late but sends each receipt at once, on the first bind:
    # a receipt reaches a worker before the submit's record exists (even in the other
    # worker); it is looked up again a second later instead of being dropped. 100 ms
    # (600 recipients over ~3 s at window 20) outlasts the workers' campaign poll (2 s),
    # so both join whichever notices the campaign first (on a slow cluster run too).
    await sim.call("/config", {"receipt_delay": 0.0, "latency": 0.1})
    workers = await seed_workers(redis, keys, 600)
    procs = [sms_process(sim, key_prefix, "sms-worker", window=WINDOW) for _ in range(2)]
    try:
        store = CampaignStore(redis, keys)
        blast = blast_settings(make_test_config(key_prefix))
        await campaigns.create(store, blast, "w", TEMPLATE, {}, False)
        await campaigns.transition(store, "w", "start")  # as the operator API does
        for _ in range(300):
            p = await campaigns.progress(store, "w")
            if p["delivered"] == 600:
                break
            await asyncio.sleep(0.1)
    finally:
        for proc in procs:
            proc.terminate()
        wait_all(procs, timeout=20)
    assert (p["state"], p["submitted"], p["delivered"], p["pending"]) == ("done", 600, 600, 0)
    counts = await sim.call("/counts")
    assert {phone: counts.get(phone) for _, phone in workers} == {ph: 1 for _, ph in workers}
    per_bind = (await sim.call("/stats"))["bind_submits"]
    assert len(per_bind) == 2 and all(n > 0 for n in per_bind)
