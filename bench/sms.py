"""SMS blast benchmark: `python -m ussd_server blast run` as a separate process (or two),
submit_sm throughput with per-recipient state in Redis and the whole process's CPU,
rate-limit accuracy of the shared per-account budget against an SMSC that throttles
above N msg/s, and time to resume after the SMSC drops the connection.

    python -m bench sms                        # 100,000 recipients
    python -m bench sms --recipients 20000     # a quick run
    python -m bench sms --layouts 1x1,2x1      # processes x binds per process

Window 50 per bind, the development SMSC as a separate process in lean mode (counts
only, no receipts) so that it is not what limits the figure; its CPU and Redis's are
reported beside the blast's. CPU is the whole `blast run` process from its first
heartbeat to its exit (start-up excluded: imports, connections, the bind).
Redis 127.0.0.1:6379 database 12 (``--redis-url``), a unique key prefix, and exactly
those keys are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from typing import Any

import redis.asyncio as aioredis

from bench.sms_peers import GROUPS, Keys, Smsc, seed
from bench.sms_runs import LONG_TEMPLATE, Blast, measure

TARGET_CPU_PER_1000 = 0.05


def _layouts(text: str) -> list[tuple[int, int]]:
    out = []
    for item in filter(None, text.split(",")):
        workers, _, binds = item.strip().partition("x")
        out.append((int(workers), int(binds or 1)))
    return out


def _per_k(seconds: float, n: int) -> float:
    return seconds / max(n / 1000, 1e-9)


async def run(args: argparse.Namespace) -> int:
    redis = aioredis.Redis.from_url(args.redis_url, decode_responses=True)
    prefix = "bsms" + uuid.uuid4().hex[:8]
    keys = Keys(prefix=prefix)
    smsc = Smsc.lean()
    try:
        await seed(redis, keys, args.recipients)
        print(f"seeded {args.recipients:,} health workers (not timed)")
        failures = 0
        for workers, binds in _layouts(args.layouts):
            failures += await _throughput(args, redis, keys, smsc, workers, binds)
        failures += await _long_messages(args, redis, keys, smsc)
        for workers in (1, 2):
            failures += await _rate_limit(args, redis, keys, smsc, workers)
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
    args: argparse.Namespace,
    redis: aioredis.Redis,
    keys: Keys,
    smsc: Smsc,
    workers: int,
    binds: int,
) -> int:
    blast = Blast(f"tp{workers}x{binds}", workers=workers, binds=binds)
    r = await measure(redis, args.redis_url, keys, smsc, blast)
    n = r["progress"]["submitted"]
    per_k = _per_k(r["cpu_s"], n)
    label = f"{workers} process{'es' if workers > 1 else ''} x {binds} bind{'s' * (binds > 1)}"
    each = " + ".join(f"{c:.2f}" for c in r["cpu_each"])
    print(
        f"blast {label}: {n:,} submit_sm in {r['wall_s']:.2f}s = {n / r['wall_s']:,.0f}/s; "
        f"blast run CPU {each} s = {per_k:.3f} CPU s per 1,000"
        f"{f'  [target <= {TARGET_CPU_PER_1000}]' if (workers, binds) == (1, 1) else ''}; "
        f"SMSC {_per_k(r['sim_cpu_s'], n):.3f}, Redis {_per_k(r['redis_cpu_s'], n):.3f} "
        f"per 1,000; the SMSC counted {r['smsc_submits']:,}, {r['progress']['queued']} queued"
    )
    wrong = n != r["recipients"] or r["smsc_submits"] != r["recipients"]
    slow = (workers, binds) == (1, 1) and per_k > TARGET_CPU_PER_1000
    return int(wrong or slow)


async def _long_messages(
    args: argparse.Namespace, redis: aioredis.Redis, keys: Keys, smsc: Smsc
) -> int:
    """One process, one bind, a template of two parts (a concatenation reference each)."""
    r = await measure(redis, args.redis_url, keys, smsc, Blast("long", template=LONG_TEMPLATE))
    n, parts = r["progress"]["submitted"], r["smsc_submits"]
    print(
        f"blast 1 process x 1 bind, two-part messages: {n:,} recipients ({parts:,} submit_sm) "
        f"in {r['wall_s']:.2f}s = {n / r['wall_s']:,.0f} recipients/s; "
        f"blast run CPU {_per_k(r['cpu_s'], n):.3f} s per 1,000 recipients; "
        f"SMSC {_per_k(r['sim_cpu_s'], n):.3f}, Redis {_per_k(r['redis_cpu_s'], n):.3f}"
    )
    return int(n != r["recipients"] or parts != 2 * r["recipients"])


async def _rate_limit(
    args: argparse.Namespace, redis: aioredis.Redis, keys: Keys, smsc: Smsc, workers: int
) -> int:
    limit = args.limit
    smsc.call("/reset", {})
    smsc.call("/config", {"max_rate": limit, "drop_after": 0})
    blast = Blast(f"limit{workers}", workers=workers, rate=limit, filters=_group(workers))
    r = await measure(redis, args.redis_url, keys, smsc, blast)
    got = r["progress"]["submitted"] / r["wall_s"]
    share = "" if workers == 1 else f", the {workers} processes sharing it"
    print(
        f"rate limit: SMSC allows {limit:.0f}/s and the account's rate is {limit:.0f}/s{share}: "
        f"sent {got:,.1f}/s ({(got / limit - 1) * 100:+.2f}%), throttled by SMSC: "
        f"{r['throttled']}  [target within 2%, never throttled]"
    )
    smsc.call("/config", {"max_rate": 0})
    return int(abs(got / limit - 1) > 0.02 or r["throttled"] > 0)


async def _disconnect(
    args: argparse.Namespace, redis: aioredis.Redis, keys: Keys, smsc: Smsc
) -> int:
    smsc.call("/reset", {})
    group = _group(GROUPS - 1)
    count = args.recipients // GROUPS
    smsc.call("/config", {"max_rate": 0, "drop_after": count // 2})
    env = {"USSD_SMPP_RECONNECT_MIN": "0.1", "USSD_SMPP_RECONNECT_MAX": "1.0"}
    r = await measure(
        redis, args.redis_url, keys, smsc, Blast("dropped", filters=group, extra_env=env)
    )
    smsc.call("/config", {"drop_after": 0})
    stats: dict[str, Any] = smsc.call("/stats")
    gaps = _gaps(stats["events"])
    counts = smsc.call("/counts")
    dups = sum(counts.values()) - count
    gap = f"{max(gaps) * 1000:.0f} ms" if gaps else "?"
    print(
        f"forced disconnect after {count // 2:,} submits: resumed sending after {gap} "
        f"(reconnect backoff min 0.1 s + jitter), {r['progress']['submitted']:,}/{count:,} "
        f"submitted, lost {count - len(counts)}, duplicates {dups}"
    )
    return int(r["progress"]["submitted"] != count or len(counts) != count)


def _group(index: int) -> dict[str, list[str]]:
    """One tenth of the seeded workers (a facility), for the shorter runs."""
    return {"facility_id": [f"F{index}"]}


def _gaps(events: list[tuple[float, str]]) -> list[float]:
    """From each drop to the next bind."""
    gaps, dropped = [], None
    for at, what in events:
        if what == "drop":
            dropped = at
        elif dropped is not None:
            gaps.append(at - dropped)
            dropped = None
    return gaps


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench sms",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument(
        "--layouts", default="1x1,1x2,2x1", help="blast processes x binds each, comma-separated"
    )
    parser.add_argument(
        "--limit", type=float, default=1000.0, help="the SMSC's maximum rate (msg/s)"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
