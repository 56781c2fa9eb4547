"""USSD over SMPP benchmark: whole *119# registrations through the development SMSC.

    python -m bench ussd_smpp                       # 10 s, 20 handsets, standard variant
    python -m bench ussd_smpp --duration 30 --handsets 50 --variant mica

The service runs as `python -m ussd_server sms-worker` (its own process: the SMPP
bind, the USSD edge, the dialogue, the outbox sending the ticket SMS), bound to the
simulator process, which plays the network and `--handsets` phones at a time, each
playing whole registrations with distinct phones (POST /ussd/journeys: no HTTP per
hop; each hop timed from its deliver_sm written to the submit_sm screen read back).
Prints hops/s, registrations/s, latency percentiles, failed registrations, and CPU
per hop of the service process and of the simulator. Registry in Redis 127.0.0.1:6379
database 13 under a unique key prefix; exactly those keys are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import uuid

import aiohttp

from bench.ussd import ROOT, cleanup, cpu_seconds, load, nik, server_pids, service_env
from devtools.smsc_process import SimProcess
from smpp.ussd_variants import VARIANTS

REDIS_URL = "redis://127.0.0.1:6379/13"


SCRIPT = {
    # dial, register, health worker: yes, last 6 of NIK, the site is right, then "2"
    # (no) to every screening group, the first slot, confirm.
    "answers": ["*119#", "1", "1", "{digits}", "1", "1", "1"],
    "repeat_text": "2",
    "repeat_while": r"^\(\d+/\d+\)",
    "final": r"Kode tiket: [A-Z0-9]{6,}",
}


async def journeys(sim: SimProcess, phones: list[list[str]], handsets: int, seconds: float):
    """The simulator plays `handsets` phones at a time through SCRIPT."""
    body = {"phones": phones, "handsets": handsets, "seconds": seconds, "script": SCRIPT}
    timeout = aiohttp.ClientTimeout(total=seconds + 60)
    url = f"{sim.control_url}/ussd/journeys"
    async with aiohttp.ClientSession(timeout=timeout) as http, http.post(url, json=body) as resp:
        return await resp.json()


def start_worker(prefix: str, sim: SimProcess, variant: str) -> subprocess.Popen[bytes]:
    env = service_env(
        prefix,
        REDIS_URL,
        USSD_SMPP_PORT=str(sim.smpp_port),
        USSD_SMPP_PASSWORD="devpass",
        USSD_SMPP_USSD_VARIANT=variant,
    )
    argv = [sys.executable, "-m", "ussd_server", "sms-worker"]
    return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


async def wait_bound(sim: SimProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(f"{sim.control_url}/stats") as resp:
                if (await resp.json())["binds"]:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError("the sms-worker did not bind to the simulator")


async def sim_cpu(sim: SimProcess) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{sim.control_url}/stats") as resp:
        return float((await resp.json())["cpu_seconds"])


def phones(first: int, count: int) -> list[list[str]]:
    return [[f"62811{i:08d}", nik(i)[-6:]] for i in range(first, first + count)]


async def run(args: argparse.Namespace, prefix: str) -> bool:
    per_run = int(args.duration * 1000) + 1000  # registrations: more than a run can play
    groups = await load(prefix, 2 * per_run, REDIS_URL)
    print(f"loaded {2 * per_run:,} health workers (prefix {prefix}, {REDIS_URL})")
    sim = SimProcess.start("--lean", "--no-receipts", "--ussd-variant", args.variant)
    worker = start_worker(prefix, sim, args.variant)
    try:
        await wait_bound(sim)
        await journeys(sim, phones(0, per_run), args.handsets, 2.0)  # warm-up, own phones
        pids = server_pids(worker.pid)
        cpu0, sim0 = cpu_seconds(pids), await sim_cpu(sim)
        r = await journeys(sim, phones(per_run, per_run), args.handsets, args.duration)
        cpu, sim_used = cpu_seconds(pids) - cpu0, await sim_cpu(sim) - sim0
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        sim.stop()
    hops, wall, lat = r["hops"], r["seconds"], r["latency_ms"]
    print(
        f"USSD over SMPP ({args.variant} variant, {args.handsets} handsets, "
        f"{5 + groups + 2} hops per registration): {hops / wall:,.0f} hops/s, "
        f"{r['journeys'] / wall:,.1f} registrations/s, p50 {lat['p50']:.2f} ms, "
        f"p90 {lat['p90']:.2f} ms, p99 {lat['p99']:.2f} ms, failed {r['failures']}"
    )
    print(
        f"CPU per hop: service (sms-worker) {cpu * 1e6 / max(hops, 1):.0f} us, "
        f"simulator (network and handsets) {sim_used * 1e6 / max(hops, 1):.0f} us"
    )
    for failure in r["failure_samples"]:
        print(f"  failure: {failure}")
    return r["failures"] == 0 and r["journeys"] > 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench ussd_smpp",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--handsets", type=int, default=20, help="concurrent phones")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="standard")
    args = parser.parse_args(argv)
    prefix = "bus" + uuid.uuid4().hex[:8]
    try:
        ok = asyncio.run(run(args, prefix))
    finally:
        print(f"cleaned {asyncio.run(cleanup(prefix, REDIS_URL))} keys")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
