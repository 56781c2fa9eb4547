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
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench import ussd
from bench.procs import ROOT, free_port

WARM_UP_SECONDS = 15
START_TIMEOUT = 300.0  # imports under valgrind take a while


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench ussd_instructions", description=__doc__)
    parser.add_argument("--seconds", type=int, default=30, help="measured wrk run")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--per-connection", type=int, default=200)
    return parser.parse_args(argv)


def _start(prefix: str, out: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = ussd.service_env(prefix, USSD_USSD_GATEWAY_PORT=str(port))
    server = [sys.executable, "-m", "ussd_server", "serve", "--port", str(free_port())]
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *server],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server under valgrind exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("server under valgrind did not start")


def _instructions(dump: Path) -> int:
    found = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.M)
    if found is None:
        raise RuntimeError(f"no totals in {dump}")
    return int(found.group(1))


def measure(prefix: str, groups: int, args: argparse.Namespace, workdir: Path) -> dict:
    out = workdir / "callgrind.out"
    proc, port = _start(prefix, out)
    per, conns = args.per_connection, args.connections
    try:
        ussd.run_wrk(port, WARM_UP_SECONDS, conns, 0, per, groups, "register")
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        report = ussd.run_wrk(port, args.seconds, conns, per * conns, per, groups, "register")
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
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
            f"register, gateway port, 1 worker under callgrind: {r['per_hop']:,.0f} "
            f"instructions per hop over {r['hops']} hops ({args.seconds} s, "
            f"{args.connections} connections), failed sessions {r['failed']}",
            flush=True,
        )
    finally:
        print(f"cleaned {asyncio.run(ussd.cleanup(prefix))} keys")
    return 0 if r["failed"] == 0 else 1
