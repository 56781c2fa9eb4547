"""SMS blast benchmark: submit_sm throughput with per-recipient state in Redis, rate-limit
accuracy against an SMSC that throttles above N msg/s, and time to resume after the SMSC
drops the connection.

    python -m bench sms                        # 100,000 recipients
    python -m bench sms --recipients 20000     # a quick run

One bind, window 50, the development SMSC as a separate process in lean mode (counts
only, no receipts) so that it is not what limits the figure; its CPU is reported apart.
Redis 127.0.0.1:6379 database 12 (``--redis-url``), a unique key prefix, and exactly
those keys are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from typing import Any

import redis.asyncio as aioredis

from bench.sms_peers import Keys, Smsc, cpu, redis_cpu, seed
from core.config import load_config
from registration.service import Registry
from smpp import campaigns
from smpp.blaster import CampaignRunner
from smpp.campaign_store import CampaignStore
from smpp.mt import MtBuilder
from smpp.pool import SmppPool
from smpp.settings import blast_settings, smpp_settings

TEMPLATE = (
    "{first_name} (NIK: {nik_masked}), Anda calon penerima Vaksin COVID-19. "
    "Balas {keyword} ke {short_code} untuk mendaftar."
)


async def _runner(
    config: Any, redis: aioredis.Redis, keys: Keys, store: CampaignStore, name: str
) -> tuple[CampaignRunner, SmppPool]:
    """A started campaign and its runner on a bound pool (not measured)."""
    settings = smpp_settings(config)
    await campaigns.create(store, blast_settings(config), name, TEMPLATE, {}, False)
    await campaigns.transition(store, name, "start")
    registry = Registry.from_config(config, redis)
    pool = SmppPool(settings.binds("devpass"), None)
    pool.start()
    await pool.wait_ready(10)
    mt = MtBuilder(settings, redis, keys)
    return CampaignRunner(store, registry, pool, mt, blast_settings(config)), pool


async def _watch_gaps(pool: SmppPool, gaps: list[float]) -> None:
    """Record how long each loss of the connection lasted."""
    down_at = None
    while True:
        if not pool.connected and down_at is None:
            down_at = time.perf_counter()
        elif pool.connected and down_at is not None:
            gaps.append(time.perf_counter() - down_at)
            down_at = None
        await asyncio.sleep(0.001)


async def blast(
    redis: aioredis.Redis,
    keys: Keys,
    smsc: Smsc,
    name: str,
    *,
    rate: float = 0.0,
    reconnect_min: float = 1.0,
    watch_gap: bool = False,
) -> dict[str, Any]:
    config = load_config(
        environ={"USSD_TICKETS_SIGNING_KEY": "bench-signing-key"},
        overrides={
            "redis.key_prefix": keys.prefix,
            "smpp.port": smsc.smpp_port,
            "smpp.rate": rate,
            "smpp.reconnect_min": reconnect_min,
            "smpp.reconnect_max": max(reconnect_min, 1.0),
        },
    )
    store = CampaignStore(redis, keys)
    runner, pool = await _runner(config, redis, keys, store, name)
    t0 = time.perf_counter()
    await runner.materialize(name)
    prepared = time.perf_counter() - t0
    gaps: list[float] = []
    watcher = asyncio.create_task(_watch_gaps(pool, gaps)) if watch_gap else None
    redis_cpu0 = await redis_cpu(redis)
    sim_cpu0, cpu0, t1 = smsc.call("/stats")["cpu_seconds"], cpu(), time.perf_counter()
    state = await runner.run(name)
    wall, used = time.perf_counter() - t1, cpu() - cpu0
    redis_used = await redis_cpu(redis) - redis_cpu0
    sim_stats = smsc.call("/stats")
    if watcher:
        watcher.cancel()
    await pool.stop()
    progress = await store.progress(name)
    assert progress is not None
    return {
        "state": state,
        "prepare_s": prepared,
        "wall_s": wall,
        "cpu_s": used,
        "sim_cpu_s": sim_stats["cpu_seconds"] - sim_cpu0,
        "progress": progress,
        "redis_cpu_s": redis_used,
        "throttled": sim_stats["throttled"],
        "smsc_submits": sim_stats["submits"],
        "gaps": gaps,
        "stats": pool.stats(),
    }


async def run(args: argparse.Namespace) -> int:
    redis = aioredis.Redis.from_url(args.redis_url, decode_responses=True)
    prefix = "bsms" + uuid.uuid4().hex[:8]
    keys = Keys(prefix=prefix)
    smsc = Smsc.lean()
    try:
        t = time.perf_counter()
        await seed(redis, keys, args.recipients)
        print(
            f"seeded {args.recipients:,} health workers in {time.perf_counter() - t:.1f}s "
            "(not timed below)"
        )
        failures = await _throughput(args, redis, keys, smsc)
        failures += await _rate_limit(args, redis, keys, smsc)
        failures += await _disconnect(args, redis, keys, smsc)
    finally:
        smsc.stop()
        deleted = 0
        async for key in redis.scan_iter(match=f"{prefix}:*", count=5000):
            await redis.unlink(key)
            deleted += 1
        await redis.aclose()
        print(f"deleted {deleted:,} benchmark keys ({prefix}:*)")
    return 1 if failures else 0


async def _throughput(
    args: argparse.Namespace, redis: aioredis.Redis, keys: Keys, smsc: Smsc
) -> int:
    r = await blast(redis, keys, smsc, "throughput")
    n = r["progress"]["submitted"]
    rate = n / r["wall_s"]
    per_k = r["cpu_s"] / (n / 1000)
    print(f"recipients selected and queued: {r['prepare_s']:.2f}s")
    print(
        f"blast throughput: {n:,} submit_sm in {r['wall_s']:.2f}s = {rate:,.0f}/s "
        f"(one bind, window 50, state per recipient in Redis)  [target >= 5,000/s]"
    )
    print(f"client CPU: {r['cpu_s']:.2f}s = {per_k:.3f} CPU s per 1,000  [target <= 0.2]")
    print(
        f"SMSC simulator CPU (separate process): {r['sim_cpu_s']:.2f}s = "
        f"{r['sim_cpu_s'] / (n / 1000):.3f} CPU s per 1,000"
    )
    print(
        f"Redis server CPU meanwhile: {r['redis_cpu_s']:.2f}s = "
        f"{r['redis_cpu_s'] / (n / 1000):.3f} CPU s per 1,000 (shared instance: includes "
        "anything else using it)"
    )
    print(
        f"the SMSC counted {r['smsc_submits']:,} submit_sm; campaign state: "
        f"{r['progress']['submitted']:,} submitted, {r['progress']['queued']} queued, "
        f"{r['progress']['failed']} failed"
    )
    failures = rate < 5000 or per_k > 0.2 or n != args.recipients
    return failures + (r["smsc_submits"] != args.recipients)


async def _rate_limit(
    args: argparse.Namespace, redis: aioredis.Redis, keys: Keys, smsc: Smsc
) -> int:
    limit = args.limit
    count = int(limit * args.limit_seconds)
    smsc.call("/reset", {})
    smsc.call("/config", {"max_rate": limit})
    await redis.delete(keys.campaign_state("throughput"))
    lim = await _fresh_blast(redis, keys, smsc, "limited", count, rate=limit)
    got = lim["progress"]["submitted"] / lim["wall_s"]
    print(
        f"rate limit: SMSC allows {limit:.0f}/s, client sent {got:,.1f}/s "
        f"({(got / limit - 1) * 100:+.2f}%), throttled by SMSC: {lim['throttled']}"
        "  [target within 2%, never throttled]"
    )
    return int(abs(got / limit - 1) > 0.02 or lim["throttled"] > 0)


async def _disconnect(
    args: argparse.Namespace, redis: aioredis.Redis, keys: Keys, smsc: Smsc
) -> int:
    count = int(args.limit * args.limit_seconds)
    smsc.call("/config", {"max_rate": 0, "drop_after": count // 2})
    smsc.call("/reset", {})
    drop = await _fresh_blast(
        redis, keys, smsc, "dropped", count, reconnect_min=0.1, watch_gap=True
    )
    counts = smsc.call("/counts")
    dups = sum(counts.values()) - count
    gap = max(drop["gaps"]) if drop["gaps"] else float("nan")
    print(
        f"forced disconnect after {count // 2:,} submits: resumed sending after "
        f"{gap * 1000:.0f} ms (reconnect backoff min 0.1 s + jitter), "
        f"{drop['progress']['submitted']:,}/{count:,} submitted, lost 0, "
        f"duplicates {dups}"
    )
    return int(drop["progress"]["submitted"] != count)


async def _fresh_blast(
    redis: aioredis.Redis, keys: Keys, smsc: Smsc, name: str, count: int, **kw: Any
) -> dict[str, Any]:
    """A campaign over the first `count` seeded workers (a filter-free copy of the set)."""
    sub = Keys(prefix=f"{keys.prefix}:x{name}")  # under the prefix: deleted with it
    await redis.copy(keys.all_workers(), sub.all_workers())  # type: ignore[attr-defined]
    members = await redis.srandmember(sub.all_workers(), count)
    await redis.delete(sub.all_workers())
    await redis.sadd(sub.all_workers(), *members)
    async with redis.pipeline(transaction=False) as pipe:
        for nik in members:
            pipe.copy(keys.worker(nik), sub.worker(nik))
        await pipe.execute()
    return await blast(redis, sub, smsc, name, **kw)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench sms",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument(
        "--limit",
        type=float,
        default=1000.0,
        help="the SMSC's maximum rate for the accuracy run (msg/s)",
    )
    parser.add_argument("--limit-seconds", type=float, default=10.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(run(args))
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
