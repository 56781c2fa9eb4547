"""Registry benchmark: CSV import rate (1,000,000 health workers) and booking rate.

    python -m bench registry                       # 1M workers, 20k bookings by 200 bookers
    python -m bench registry --workers 100000 --bookings 2000   # a quick run

Uses Redis at 127.0.0.1:6379 database 10 (``--redis-url``) under a unique key
prefix and deletes exactly its own keys afterwards (SCAN + pipelined UNLINK).
CSV generation is not timed; the import is timed end to end (parse, validate,
write). Booking: every booker is screened first (not timed), then N coroutines
share one connection pool and book random slots across many facilities.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis.asyncio as aioredis

from core.config import load_config
from devtools.demo import write_csvs
from registration import redis_import
from registration.keys import RegistryKeys as Keys
from registration.service import Registry


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000  # noqa: E731
    return f"p50 {pick(0.50):.2f} ms, p90 {pick(0.90):.2f} ms, p99 {pick(0.99):.2f} ms"


async def run_many(
    count: int, concurrency: int, op: Callable[[int], Awaitable[object]]
) -> tuple[float, list[float], list[object]]:
    """Run op(0..count-1) with ``concurrency`` coroutines; (seconds, latencies, results)."""
    latencies: list[float] = []
    results: list[object] = []
    next_index = iter(range(count))

    async def worker() -> None:
        for i in next_index:
            started = time.perf_counter()
            results.append(await op(i))
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, results


async def cleanup(redis: aioredis.Redis, prefix: str) -> int:
    deleted, batch = 0, []
    async for key in redis.scan_iter(match=f"{prefix}:*", count=5000):
        batch.append(key)
        if len(batch) >= 5000:
            deleted += await redis.unlink(*batch)
            batch = []
    if batch:
        deleted += await redis.unlink(*batch)
    return deleted


async def bench(args: argparse.Namespace) -> int:
    prefix = "bench" + uuid.uuid4().hex[:8]
    keys = Keys(prefix=prefix)
    # One connection per concurrent caller: with fewer, redis-py's pool lets a caller that
    # just released a connection take it again at once, and the percentiles would measure
    # that queue's unfairness rather than the registry.
    pool = aioredis.BlockingConnectionPool.from_url(
        args.redis_url, max_connections=max(args.concurrency, 8), decode_responses=True, timeout=60
    )
    redis = aioredis.Redis(connection_pool=pool)
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as folder:
        started = time.perf_counter()
        fac_path, wk_path, _ = write_csvs(
            Path(folder), args.workers, seed=7, logins=0, extra_facilities=args.facilities
        )
        size = wk_path.stat().st_size / 1e6
        print(
            f"generated {args.workers:,} health workers ({size:.0f} MB CSV) and "
            f"{args.facilities + 61:,} facilities in {time.perf_counter() - started:.1f}s "
            "(not timed)",
            flush=True,
        )
        try:
            return await _measure(args, redis, keys, fac_path, wk_path)
        finally:
            started = time.perf_counter()
            deleted = await cleanup(redis, prefix)
            print(f"cleanup: unlinked {deleted:,} keys in {time.perf_counter() - started:.1f}s")
            await redis.aclose()
            await pool.disconnect()


async def _measure(
    args: argparse.Namespace, redis: aioredis.Redis, keys: Keys, fac_path: Path, wk_path: Path
) -> int:
    if not await _import(args, redis, keys, fac_path, wk_path):
        return 1
    config = load_config(
        environ={"USSD_TICKETS_SIGNING_KEY": "benchmark-signing-key"},
        overrides={"redis.key_prefix": keys.prefix},
    )
    registry = Registry.from_config(config, redis)
    rng = random.Random(11)
    niks = sorted(await redis.srandmember(keys.all_workers(), args.bookings))
    rng.shuffle(niks)
    answers = {g.group_id: False for g in registry.screening_groups()}
    took, _, _ = await run_many(
        len(niks), args.concurrency, lambda i: registry.record_screening(niks[i], answers)
    )
    print(f"screened {len(niks):,} bookers in {took:.1f}s (setup)")
    facility_ids = sorted(await redis.smembers(keys.facilities()))
    await _hot_path(args, registry, niks, facility_ids)
    return await _booking(args, registry, niks, facility_ids, rng)


async def _import(
    args: argparse.Namespace, redis: aioredis.Redis, keys: Keys, fac_path: Path, wk_path: Path
) -> bool:
    """Facilities, then the workers (and again with --reimport); False if rows were lost."""
    started = time.perf_counter()
    facilities = await redis_import.import_facilities(redis, keys, fac_path)
    print(f"import facilities: {facilities.rows_ok:,} rows in {time.perf_counter() - started:.2f}s")
    for label in ("import health workers", "re-import (all exist)"):
        started = time.perf_counter()
        report = await redis_import.import_health_workers(redis, keys, wk_path)
        took = time.perf_counter() - started
        print(
            f"{label}: {report.rows_ok:,} rows ok, {report.rows_bad} bad, {took:.2f}s total, "
            f"{report.rows_ok / took:,.0f} rows/s",
            flush=True,
        )
        if report.rows_bad or report.rows_ok != args.workers:
            print("FAILED: the import lost rows")
            return False
        if not args.reimport:
            break
    return True


async def _hot_path(
    args: argparse.Namespace, registry: Registry, niks: list[str], facility_ids: list[str]
) -> None:
    """verify, facility_choices and available_slots: one caller, then many."""
    phones = [w.phone for w in [await registry.worker(n) for n in niks[:2000]] if w]
    # Warm-up (not measured): open the pool's connections, load scripts and the facility cache.
    await registry.warm_up()
    await run_many(
        min(len(phones), 400), args.concurrency, lambda i: registry.facility_choices(niks[i])
    )
    hot_path: dict[str, Callable[[int], Awaitable[object]]] = {
        "verify": lambda i: registry.verify(phones[i], niks[i][-6:]),
        "facility_choices": lambda i: registry.facility_choices(niks[i]),
        "available_slots": lambda i: registry.available_slots(facility_ids[i % len(facility_ids)]),
    }
    for name, op in hot_path.items():
        # Alone (one caller: the cost of one call), then with the bookers' concurrency.
        took, lat, _ = await run_many(min(len(phones), 500), 1, op)
        print(f"{name}, 1 caller: {percentiles(lat)}")
        took, lat, _ = await run_many(len(phones), args.concurrency, op)
        rate = len(phones) / took
        print(f"{name}, {args.concurrency} concurrent: {rate:,.0f}/s, {percentiles(lat)}")


async def _booking(
    args: argparse.Namespace,
    registry: Registry,
    niks: list[str],
    facility_ids: list[str],
    rng: random.Random,
) -> int:
    slots = await registry.available_slots(facility_ids[0])
    days = sorted({s.day for s in slots})
    sessions = sorted({s.session_id for s in slots})
    choices = [(rng.choice(facility_ids), rng.choice(days), rng.choice(sessions)) for _ in niks]
    took, lat, results = await run_many(
        len(niks), args.concurrency, lambda i: registry.book(niks[i], *choices[i])
    )
    outcomes = Counter(str(r.outcome) for r in results)  # type: ignore[attr-defined]
    print(
        f"booking: {len(niks):,} bookings by {args.concurrency} concurrent bookers over "
        f"{len(facility_ids):,} facilities in {took:.2f}s = {len(niks) / took:,.0f} bookings/s, "
        f"{percentiles(lat)}; outcomes {dict(outcomes)}",
        flush=True,
    )
    return 0 if outcomes.get("booked", 0) > 0 else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench registry", description=__doc__)
    parser.add_argument("--workers", type=int, default=1_000_000, help="health workers to import")
    parser.add_argument("--facilities", type=int, default=2000, help="extra facilities")
    parser.add_argument("--bookings", type=int, default=20_000, help="bookings to make")
    parser.add_argument("--concurrency", type=int, default=200, help="concurrent bookers")
    parser.add_argument(
        "--reimport", action=argparse.BooleanOptionalAction, default=True,
        help="also time a second import of the same file (updates only)",
    )  # fmt: skip
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    args = parser.parse_args(argv)
    args.bookings = min(args.bookings, args.workers)
    try:
        import uvloop  # the server runs on uvloop too
    except ImportError:
        return asyncio.run(bench(args))
    return uvloop.run(bench(args))


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
