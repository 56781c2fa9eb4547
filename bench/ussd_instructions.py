"""Instructions per USSD hop: the server under valgrind's callgrind, driven by wrk.

    python -m bench ussd_instructions [--seconds 30] [--connections 20]

This 2-core VM's speed moves by a factor of two between hours, so a few per cent of CPU
per hop cannot be seen in µs. Instructions can: callgrind counts what the server process
executes (user space; not the kernel's share of its syscalls), the same for the same code
within about 1 %. The server runs 30-50 times slower under it; wrk keeps it busy with
whole registrations (`bench/wrk/journey.lua`), the counters are zeroed after a warm-up
and dumped after the measured run. Compare the figure between commits, not with µs.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from bench import ussd
from bench.procs import free_port, stop

WARM_UP_SECONDS = 15
START_SECONDS = 300.0  # imports under valgrind take a while


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench ussd_instructions", description=__doc__)
    parser.add_argument("--seconds", type=int, default=30, help="measured wrk run")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--per-connection", type=int, default=200)
    parser.add_argument(
        "--port", choices=("gateway", "main"), default="gateway",
        help="the lean gateway listener, or the main port (aiohttp behind the guard)",
    )  # fmt: skip
    return parser.parse_args(argv)


def _instructions(dump: Path) -> int:
    found = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.M)
    if found is None:
        raise RuntimeError(f"no totals in {dump}")
    return int(found.group(1))


def measure(prefix: str, groups: int, args: argparse.Namespace, workdir: Path) -> dict:
    gateway_port, main_port = free_port(), free_port()
    port = gateway_port if args.port == "gateway" else main_port
    valgrind = [
        "valgrind",
        "-q",
        "--tool=callgrind",
        f"--callgrind-out-file={workdir}/callgrind.out",
    ]
    proc = ussd.start_server(
        prefix, main_port, 1, wrapper=valgrind, start_seconds=START_SECONDS,
        USSD_USSD_GATEWAY_PORT=str(gateway_port),
    )  # fmt: skip
    per, conns = args.per_connection, args.connections
    try:
        ussd.run_wrk(port, WARM_UP_SECONDS, conns, 0, per, groups, "register")
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        report = ussd.run_wrk(port, args.seconds, conns, per * conns, per, groups, "register")
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
    finally:
        stop(proc, 60)
    journey = dict(re.findall(r"(\w+)=(\d+)", re.search(r"JOURNEY (.*)", report).group(1)))
    dump = next(iter(sorted(workdir.glob("callgrind.out.*"))))  # the one of `-d`
    hops = int(journey["requests"])
    return {"hops": hops, "failed": int(journey["failures"]), "per_hop": _instructions(dump) / hops}


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    for tool in ("valgrind", "callgrind_control", "wrk"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: run scripts/ensure-bench-tools.sh", file=sys.stderr)
            return 2
    prefix = "bi" + uuid.uuid4().hex[:8]
    groups = asyncio.run(ussd.load(prefix, 2 * args.per_connection * args.connections))
    try:
        with tempfile.TemporaryDirectory(prefix="callgrind-") as workdir:
            r = measure(prefix, groups, args, Path(workdir))
        print(
            f"register, {args.port} port, 1 worker under callgrind: {r['per_hop']:,.0f} "
            f"instructions per hop over {r['hops']} hops ({args.seconds} s, "
            f"{args.connections} connections), failed sessions {r['failed']}",
            flush=True,
        )
    finally:
        print(f"cleaned {asyncio.run(ussd.cleanup(prefix))} keys")
    return 0 if r["failed"] == 0 else 1
