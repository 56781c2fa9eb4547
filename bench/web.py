"""Web benchmark: whole registrations on /daftar over HTTP, without a browser.

    python -m bench web [--duration 8] [--browsers 8]

Loads a registry (as the USSD benchmark does) into Redis 127.0.0.1:6379 db 11
under a unique key prefix, starts the development SMSC and the server (one
worker, website on, SMS channel bound to the simulator), then runs `--browsers`
concurrent visitors, each playing whole registrations with distinct phones:
phone -> the one-time code read from the SMSC -> NIK -> site -> screening ->
second page of times -> confirm -> the ticket page. Every form is a POST and its
303 a GET, each counted as a page request. Prints page requests/s,
registrations/s, latency percentiles per request and the server's CPU per page
request (utime+stime from /proc). Deletes exactly its own keys afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field

import aiohttp

from bench.ussd import ROOT, cleanup, cpu_seconds, free_port, load, nik, server_pids, start_server
from bench.web_client import FormClient

CODE = re.compile(r"\b(\d{6})\b")


@dataclass
class Tally:
    registrations: int = 0
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    requests: int = 0


async def read_code(http: aiohttp.ClientSession, smsc: str, phone: str, seen: int) -> str:
    for _ in range(400):
        async with http.get(f"{smsc}/messages?to={phone}") as response:
            texts = [t for t in (await response.json())["messages"] if "Kode daftar" in t]
        if len(texts) > seen:
            return CODE.search(texts[seen]).group(1)  # type: ignore[union-attr]
        await asyncio.sleep(0.02)
    raise RuntimeError("no one-time code arrived")


async def register(visitor: FormClient, smsc: str, index: int) -> None:
    """One whole registration for health worker `index`; raises on anything unexpected."""
    phone = f"62811{index:08d}"
    await visitor.get()
    await visitor.post("/daftar/phone", phone=phone)
    await visitor.post("/daftar/code", code=await read_code(visitor.http, smsc, phone, 0))
    steps = [("text", nik(index)[-6:]), ("choice", "worker_confirm.1")]
    for name, value in steps:
        await visitor.post("/daftar/answer", **{name: value})
    while "screening." in visitor.page:
        await visitor.post("/daftar/answer", choice=visitor.choices()[1])  # no
    await visitor.post("/daftar/answer", nav="98")  # the second page of times
    await visitor.post("/daftar/answer", choice=visitor.choices()[0])
    await visitor.post("/daftar/answer", choice="confirm.1")
    if "<svg" not in visitor.page:
        raise RuntimeError(f"no ticket page at the end (status {visitor.status})")
    await visitor.post("/daftar/logout")


async def browse(base: str, smsc: str, first: int, stop_at: float, tally: Tally) -> None:
    index = first
    while time.monotonic() < stop_at:
        async with FormClient.session() as http:
            visitor = FormClient(http, base)
            try:
                await register(visitor, smsc, index)
                tally.registrations += 1
            except Exception as exc:  # a benchmark reports failures, it does not stop
                tally.failures.append(f"{index}: {exc!r}"[:200])
            tally.latencies += visitor.latencies
            tally.requests += visitor.requests
        index += 1


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else 0.0


async def drive(base: str, smsc: str, args: argparse.Namespace, offset: int) -> Tally:
    tally = Tally()
    stop_at = time.monotonic() + args.duration
    per = args.per_browser
    await asyncio.gather(
        *(browse(base, smsc, offset + b * per, stop_at, tally) for b in range(args.browsers))
    )
    return tally


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench web", description=__doc__)
    parser.add_argument("--duration", type=int, default=8, help="seconds of load")
    parser.add_argument("--browsers", type=int, default=8, help="concurrent visitors")
    parser.add_argument("--per-browser", type=int, default=2000, help="phones per visitor")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from devtools.smsc_process import SimProcess

    prefix = "bw" + uuid.uuid4().hex[:8]
    subscribers = 2 * args.browsers * args.per_browser
    asyncio.run(load(prefix, subscribers))
    sim = SimProcess.start()
    port = free_port()
    env = {
        "USSD_WEB_ENABLED": "true",
        "USSD_WEB_CSRF_SECRET": "bench-csrf-secret",
        "USSD_WEB_CODES_PER_CLIENT": "100000000",  # every visitor is 127.0.0.1 here
        "USSD_SMPP_ENABLED": "true",
        "USSD_SMPP_PORT": str(sim.smpp_port),
        "USSD_SMPP_PASSWORD": "devpass",
    }
    proc = start_server(prefix, port, 1, **env)
    base, smsc = f"http://127.0.0.1:{port}", sim.control_url
    try:
        pids = server_pids(proc.pid)
        asyncio.run(drive(base, smsc, argparse.Namespace(**{**vars(args), "duration": 2}), 0))
        before, started = cpu_seconds(pids), time.monotonic()
        tally = asyncio.run(drive(base, smsc, args, args.per_browser * args.browsers))
        elapsed, cpu = time.monotonic() - started, cpu_seconds(pids) - before
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
        sim.stop()
        print(f"cleaned {asyncio.run(cleanup(prefix))} keys")
    ms = [1000 * x for x in tally.latencies]
    print(
        f"web, 1 worker, {args.browsers} visitors: {tally.requests / elapsed:.0f} page requests/s, "
        f"{tally.registrations / elapsed:.1f} registrations/s "
        f"({tally.requests / max(tally.registrations, 1):.0f} requests each), "
        f"p50 {percentile(ms, 50):.1f} ms, p90 {percentile(ms, 90):.1f} ms, "
        f"p99 {percentile(ms, 99):.1f} ms, server CPU {cpu * 1e6 / max(tally.requests, 1):.0f} "
        f"us/request, failed {len(tally.failures)}",
        flush=True,
    )
    for failure in tally.failures[:3]:
        print("  " + failure)
    return 0 if not tally.failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
