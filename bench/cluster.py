"""Redis Cluster and WAIT figures: one Redis vs a 3-master cluster, WAIT off vs on.

    python -m bench cluster                          # all of it (a few minutes)
    python -m bench cluster --bookings 3000 --duration 8 --no-ussd

Starts its own servers (nothing on 6379 is touched): one redis-server with one replica,
and a 3-master Redis Cluster with one replica per master (devtools.local_cluster). On
each, with ``[redis] wait_replicas`` 0 then 1, it measures:

- import: health workers per second through the raw writer (one connection per master);
- booking: N bookings by C concurrent bookers through the Registry (bench.registry);
- SMS record: what a blast's flush writes for each sent SMS (the message-id key of its
  receipt and the campaign's COMMIT), batches of 200, then WAIT: microseconds per message;
- USSD (needs wrk): whole *119# registrations through one server process (bench.ussd);
  the booking hop is the one that waits.

Everything runs on this machine: replicas and cluster nodes share its cores with the
load generator, so compare the rows with each other, not with other machines.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from bench import ussd
from bench.cluster_blast import blast_figures
from bench.cluster_targets import Target, single_with_replica
from bench.registry import percentiles, run_many
from core.config import load_config
from core.redis_client import connect, connect_lean
from core.redis_wire import Call
from core.settings import redis_settings
from devtools.demo import write_csvs
from devtools.local_cluster import LocalCluster
from registration import redis_import
from registration.keys import RegistryKeys
from registration.service import Registry
from smpp import campaign_lua
from smpp.keys import SmsKeys


def _config(url: str, prefix: str, wait: int, extra: dict[str, object] | None = None):
    return load_config(
        environ={"USSD_TICKETS_SIGNING_KEY": "bench-signing-key"},
        overrides={
            "redis.url": url,
            "redis.key_prefix": prefix,
            "redis.wait_replicas": wait,
            "redis.max_connections": 256,
            **(extra or {}),
        },
    )


async def registry_figures(
    args: argparse.Namespace,
    label: str,
    url: str,
    wait: int,
    extra: dict[str, object] | None = None,
) -> None:
    """Import, bookings and a blast's records on ``url``; ``extra``: more settings."""
    prefix = "bcl" + uuid.uuid4().hex[:8]
    config = _config(url, prefix, wait, extra)
    settings = redis_settings(config)
    redis, lean, keys = connect(settings), connect_lean(settings), RegistryKeys(prefix)
    try:
        with tempfile.TemporaryDirectory(prefix="cluster-bench-") as folder:
            fac, wk, _ = write_csvs(Path(folder), args.workers, seed=7, logins=0)
            await redis_import.import_facilities(redis, keys, fac.open())
            started = time.perf_counter()
            report = await redis_import.import_health_workers(redis, keys, wk.open())
            took = time.perf_counter() - started
        print(f"{label}: import {report.rows_ok / took:,.0f} workers/s", flush=True)
        registry = Registry.from_config(config, redis, fast=lean)
        niks = sorted(await redis.srandmember(keys.all_workers(), args.bookings))
        answers = {g.group_id: False for g in registry.screening_groups()}
        await run_many(len(niks), 100, lambda i: registry.record_screening(niks[i], answers))
        facility_ids = sorted(await redis.smembers(keys.facilities()))
        slots = await registry.available_slots(facility_ids[0])
        rng = random.Random(11)
        picks = [
            (rng.choice(facility_ids), rng.choice(slots).day, rng.choice(slots).session_id)
            for _ in niks
        ]
        took, lat, results = await run_many(
            len(niks), args.concurrency, lambda i: registry.book(niks[i], *picks[i])
        )
        booked = sum(1 for r in results if r.ticket is not None)  # type: ignore[attr-defined]
        print(
            f"{label}: booking {len(niks) / took:,.0f}/s by {args.concurrency} bookers, "
            f"{percentiles(lat)} ({booked} booked)",
            flush=True,
        )
        await sms_record_figures(label, lean, prefix)
    finally:
        await lean.aclose()
        await redis.aclose()
        await ussd.cleanup(prefix, url)


async def sms_record_figures(label: str, lean, prefix: str, batches: int = 100) -> None:
    """A blast flush's writes for 200 sent SMS, then WAIT (when on): us per message."""
    keys, name, per = SmsKeys(prefix), "bench", 200
    inflight, state, meta = (
        keys.campaign_inflight(name), keys.campaign_state(name), keys.campaign_meta(name),
    )  # fmt: skip
    started = time.perf_counter()
    for b in range(batches):
        mids = [f"m{b}-{i}" for i in range(per)]
        items: list = [
            ("SET", keys.sms_message_id(mid), f"c\tbench\t{i}", "EX", 600)
            for i, mid in enumerate(mids)
        ]
        groups = [f"b{b}", per, *(x for i, mid in enumerate(mids) for x in (str(i), mid))]
        items.append(Call(campaign_lua.COMMIT, [inflight, state, meta], groups))
        await lean.batch(items)
        await lean.wait_replicas(state, *(item[1] for item in items[:per]))
    took = time.perf_counter() - started
    print(f"{label}: SMS record {took * 1e6 / (batches * per):.1f} us/message", flush=True)


def ussd_figures(
    args: argparse.Namespace, label: str, url: str, wait: int, workers: tuple[int, ...]
) -> None:
    prefix = "bcu" + uuid.uuid4().hex[:8]
    runs = 2 * len(workers)
    subscribers = 2 * runs * args.per_connection * args.connections
    groups = asyncio.run(ussd.load(prefix, subscribers, url))
    env = {"USSD_REDIS_URL": url, "USSD_REDIS_WAIT_REPLICAS": str(wait)}
    try:
        for slot, count in enumerate(workers):
            r = ussd.measure(prefix, count, args, groups, slot, "register", "gateway", env)
            print(
                f"{label}: USSD, {count} worker{'s' * (count > 1)}: {r['hops_per_s']:.0f} "
                f"hops/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, server CPU "
                f"{r['cpu_us_per_hop']:.0f} us/hop, failed sessions {r['failed_sessions']}",
                flush=True,
            )
    finally:
        asyncio.run(ussd.cleanup(prefix, url))


def run_target(args: argparse.Namespace, target: Target) -> None:
    for wait in (0, 1):
        label = f"{target.name}, WAIT {'on (1 replica)' if wait else 'off'}"
        asyncio.run(registry_figures(args, label, target.url, wait))
        if args.ussd:  # 1 and 2 server processes without WAIT, 1 with it
            ussd_figures(args, label, target.url, wait, (1,) if wait else (1, 2))
        if args.recipients:
            asyncio.run(blast_figures(args, label, target.url, wait))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cluster", description=__doc__)
    parser.add_argument("--workers", type=int, default=50_000, help="health workers to import")
    parser.add_argument("--bookings", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--ussd", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--duration", type=int, default=10, help="seconds per USSD run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--per-connection", type=int, default=300)
    parser.add_argument(
        "--recipients", type=int, default=30_000, help="blast size (0 = no blast runs)"
    )
    args = parser.parse_args(argv)
    if args.ussd and shutil.which("wrk") is None:
        print("wrk is not installed (scripts/ensure-bench-tools.sh): USSD runs skipped")
        args.ussd = False
    with single_with_replica() as single:
        run_target(args, single)
    cluster = LocalCluster(masters=3, replicas=1).start()
    try:
        run_target(args, Target("cluster (3 masters)", cluster.url))
    finally:
        cluster.stop()
    return 0
