"""USSD benchmark: whole *119# registrations driven by wrk against `ussd_server serve`.

    python -m bench ussd [--duration 15] [--connections 50] [--workers 1,2]

Loads a registry (health workers with phones 62811xxxxxxxx, facilities with
ample capacity) into Redis 127.0.0.1:6379 db 11 under a unique key prefix,
starts the server with 1 then 2 worker processes, and runs wrk with
`bench/wrk/journey.lua` (one connection per wrk thread, each playing whole
registrations with distinct phones over the Africa's Talking dialect, every hop
checked). Prints hops/s, sessions/s, wrk's latency percentiles, failed sessions
and the server's CPU microseconds per hop (utime+stime of the server processes
from /proc), beside the same wrk against an aiohttp hello-world (the machine's
yardstick, bench/ussd_reference.py). Deletes exactly its own keys afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence

from bench import ussd_reference
from bench.procs import ROOT, cpu_seconds, free_port, histogram_means, server_pids, stop

LUA = ROOT / "bench" / "wrk" / "journey.lua"
REDIS_URL = "redis://127.0.0.1:6379/11"
FACILITIES = 20


def nik(i: int) -> str:
    """Index -> a valid NIK whose last 6 digits journey.lua can compute (yy + serial); born
    1 January 1970-1999, inside this phase's age band (18-59) now as in 2021."""
    serial, yy, district = i % 9999 + 1, 70 + (i // 9999) % 30, 1 + i // (9999 * 30)
    return f"3273{district:02d}0101{yy:02d}{serial:04d}"


def facility_lines() -> list[str]:
    lines = ["facility_id,name,regency,address,daily_capacity"]
    lines += [f"B{n:03d},Puskesmas Bench {n},Kota Bandung,Jl. Bench {n},100000" for n in range(20)]
    return lines


def worker_lines(count: int):
    yield "nik,full_name,phone,profession,facility_id"
    for i in range(count):
        yield f"{nik(i)},Bench Worker {i},62811{i:08d},perawat,B{i % FACILITIES:03d}"


async def load(prefix: str, subscribers: int, redis_url: str = REDIS_URL) -> int:
    """Import the registry; returns the number of screening groups."""
    from core.config import load_config
    from core.redis_client import connect
    from core.settings import redis_settings
    from registration import redis_import
    from registration.keys import RegistryKeys
    from registration.service import Registry

    config = load_config(
        environ={"USSD_TICKETS_SIGNING_KEY": "bench-signing-key"},
        overrides={"redis.url": redis_url, "redis.key_prefix": prefix},
    )

    redis, keys = connect(redis_settings(config)), RegistryKeys(prefix)
    try:
        report = await redis_import.import_facilities(redis, keys, facility_lines())
        assert report.rows_bad == 0, report.errors[:3]
        report = await redis_import.import_health_workers(redis, keys, worker_lines(subscribers))
        assert report.rows_bad == 0, report.errors[:3]
        return len(Registry.from_config(config, redis).screening_groups())
    finally:
        await redis.aclose()


async def cleanup(prefix: str, redis_url: str = REDIS_URL) -> int:
    from core.config import load_config
    from core.redis_client import connect
    from core.settings import redis_settings

    client = connect(redis_settings(load_config(overrides={"redis.url": redis_url})))
    deleted = 0
    try:
        batch = []
        async for key in client.scan_iter(match=f"{prefix}:*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                deleted += await client.unlink(*batch)
                batch = []
        if batch:
            deleted += await client.unlink(*batch)
    finally:
        await client.aclose()
    return deleted


def service_env(prefix: str, redis_url: str = REDIS_URL, **extra: str) -> dict[str, str]:
    """A benchmarked service's environment; ``extra`` may replace any (USSD_REDIS_URL)."""
    return {
        **os.environ,
        "USSD_REDIS_URL": redis_url,
        "USSD_REDIS_KEY_PREFIX": prefix,
        "USSD_TICKETS_SIGNING_KEY": "bench-signing-key",
        "USSD_OPERATOR_API_TOKEN": "bench-operator-token-0123456789",
        "USSD_CONSOLE_SESSION_KEY": "bench-console-session-key",
        "USSD_SERVICE_LOG_LEVEL": "WARNING",
        "USSD_USSD_ALLOW_UNAUTHENTICATED": "true",
        **extra,
    }


def start_server(
    prefix: str,
    port: int,
    workers: int,
    *,
    wrapper: Sequence[str] = (),
    start_seconds: float = 30,
    **extra: str,
) -> subprocess.Popen[bytes]:
    """`serve` on the benchmark's Redis and prefix (``extra``: USSD_ settings), maybe under
    a ``wrapper`` (valgrind, which starts it slower)."""
    env = service_env(prefix, **extra)
    argv = [*wrapper, sys.executable, "-m", "ussd_server", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*argv, "--workers", str(workers)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + start_seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            time.sleep(0.5 if workers > 1 else 0.1)  # let every worker bind
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"server did not start within {start_seconds:.0f} s")


def run_wrk(
    port: int, seconds: int, connections: int, base: int, per: int, groups: int, mode: str
) -> str:
    argv = ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds}s",
            "--latency", "-s", str(LUA), f"http://127.0.0.1:{port}", "--",
            str(base), str(per), str(groups), mode]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def measure(
    prefix: str,
    workers: int,
    args: argparse.Namespace,
    groups: int,
    slot: int,
    mode: str,
    listener: str = "gateway",
    env: dict[str, str] | None = None,
) -> dict:
    """One run; ``listener`` "gateway" = the lean gateway listener, "main" = the aiohttp port;
    ``env``: more settings of the server (its Redis, WAIT...)."""
    main_port, gateway_port = free_port(), free_port()
    extra = {"USSD_USSD_GATEWAY_PORT": str(gateway_port), **(env or {})}
    proc = start_server(prefix, main_port, workers, **extra)
    port = gateway_port if listener == "gateway" else main_port
    per = args.per_connection
    try:
        pids = server_pids(proc.pid)
        run_wrk(port, 2, args.connections, slot * 2 * per * args.connections, per, groups, mode)
        before = cpu_seconds(pids)
        out = run_wrk(port, args.duration, args.connections,
                      (slot * 2 + 1) * per * args.connections, per, groups, mode)  # fmt: skip
        cpu = cpu_seconds(pids) - before
        screens = histogram_means(main_port, "vaksin_ussd_screen_seconds", "screen")
    finally:
        stop(proc)
    journey = dict(re.findall(r"(\w+)=(\d+)", re.search(r"JOURNEY (.*)", out).group(1)))
    latency = dict(re.findall(r"(\w+)=(\d+)", re.search(r"LATENCY_US (.*)", out).group(1)))
    seconds = int(journey["duration_us"]) / 1e6
    hops = int(journey["requests"])
    failures = re.search(r"FAILURES\n(.*)", out, re.S)
    return {
        "mode": mode,
        "listener": listener,
        "workers": workers,
        "hops_per_s": hops / seconds,
        "sessions_per_s": int(journey["sessions"]) / seconds,
        "p50_ms": int(latency["p50"]) / 1000,
        "p90_ms": int(latency["p90"]) / 1000,
        "p99_ms": int(latency["p99"]) / 1000,
        "failed_sessions": int(journey["failures"]),
        "http_errors": int(journey["errors"]),
        "cpu_us_per_hop": cpu * 1e6 / max(hops, 1),
        "failure_samples": failures.group(1).strip() if failures else "",
        "screens": screens,
    }


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench ussd",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds per run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", default="1,2", help="server processes to try, e.g. 1,2")
    parser.add_argument(
        "--listeners",
        default="gateway,main",
        help="where the gateways are served: the lean gateway listener and/or the main port",
    )
    parser.add_argument(
        "--per-connection", type=int, default=500, help="distinct phones per connection per run"
    )
    parser.add_argument(
        "--navigate",
        action="store_true",
        help="also measure menu navigation alone (no Registry calls)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: run scripts/ensure-bench-tools.sh", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    prefix = "bu" + uuid.uuid4().hex[:8]
    counts = [int(w) for w in args.workers.split(",")]
    listeners = args.listeners.split(",")
    subscribers = 2 * 2 * len(counts) * len(listeners) * args.per_connection * args.connections
    started = time.monotonic()
    groups = asyncio.run(load(prefix, subscribers))
    print(
        f"loaded {subscribers} health workers, {FACILITIES} facilities "
        f"in {time.monotonic() - started:.1f}s (prefix {prefix}, {REDIS_URL})"
    )
    print(
        f"load: wrk -t{args.connections} -c{args.connections} -d{args.duration}s, "
        f"{args.connections} connections each playing whole registrations "
        f"({5 + groups + 2} hops) with distinct phones over Africa's Talking; "
        "navigate = 9 menu hops ending in an END screen, no Registry call"
    )
    ref = ussd_reference.yardstick(args.duration, args.connections)
    ok = True
    try:
        runs = [("register", w, where) for where in listeners for w in counts]
        runs += (
            [("navigate", w, where) for where in listeners for w in counts] if args.navigate else []
        )
        for slot, (mode, workers, where) in enumerate(runs):
            r = measure(prefix, workers, args, groups, slot, mode, where)
            print(
                f"{mode}, {where} port, workers={r['workers']}: {r['hops_per_s']:.0f} hops/s, "
                f"{r['sessions_per_s']:.0f} sessions/s, p50 {r['p50_ms']:.2f} ms, "
                f"p90 {r['p90_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
                f"failed sessions {r['failed_sessions']}, HTTP errors {r['http_errors']}, "
                f"server CPU {r['cpu_us_per_hop']:.0f} us/hop "
                f"({r['cpu_us_per_hop'] / ref['cpu_us']:.1f}x the hello-world's request)",
                flush=True,
            )
            slowest = sorted(r["screens"].items(), key=lambda kv: -kv[1])[:4]
            print("  mean ms per hop by the screen it answered with, slowest: "
                  + ", ".join(f"{screen} {ms:.1f}" for screen, ms in slowest))  # fmt: skip
            if r["failure_samples"]:
                print("  first failures:\n  " + r["failure_samples"].replace("\n", "\n  "))
            ok = ok and r["failed_sessions"] == 0 and r["http_errors"] == 0
    finally:
        print(f"cleaned {asyncio.run(cleanup(prefix))} keys")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
