"""The machine's yardstick for the USSD figures: an aiohttp hello-world under the same wrk.

Hops/s and CPU per hop depend on the machine as much as on the server. This runs the
smallest aiohttp server that answers a gateway's POST (``CON hello``, no Redis, no
dialogue) with the same wrk settings as the journeys (one connection per thread), so
that the server's hop can be read as "k times the HTTP stack's cost" on any machine.

    python -m bench.ussd_reference --serve PORT    # the hello-world server itself
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.procs import ROOT, cpu_seconds, free_port, server_pids, stop

BODY = "sessionId=ref-1&serviceCode=*119%23&phoneNumber=%2B6281100000001&text=1"
LUA = f"""wrk.method = "POST"
wrk.body = "{BODY}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""


def serve(port: int) -> None:
    from aiohttp import web

    from core import aio

    async def hop(request: web.Request) -> web.Response:
        await request.post()  # the form is read, as a gateway's hop is
        return web.Response(text="CON hello")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/ussd/africastalking", hop)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
        await stop.wait()
        await runner.cleanup()

    aio.run(main())


def measure(seconds: int, connections: int) -> dict[str, float]:
    """Requests/s, p99 and CPU µs per request of the hello-world under wrk."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.ussd_reference", "--serve", str(port)], cwd=ROOT
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(LUA)
        url = f"http://127.0.0.1:{port}/ussd/africastalking"
        argv = ["wrk", "-t", str(connections), "-c", str(connections), "--latency", "-s"]
        subprocess.run([*argv, lua.name, "-d", "2s", url], capture_output=True, check=True)
        pids = server_pids(proc.pid)
        before = cpu_seconds(pids)
        out = subprocess.run(
            [*argv, lua.name, "-d", f"{seconds}s", url], capture_output=True, text=True, check=True
        ).stdout
        cpu = cpu_seconds(pids) - before
        Path(lua.name).unlink()
    finally:
        stop(proc, timeout=10)
    rate = float(out.split("Requests/sec:")[1].split()[0])
    return {"per_s": rate, "p99_ms": _p99_ms(out), "cpu_us": cpu * 1e6 / (rate * seconds)}


def _p99_ms(wrk_output: str) -> float:
    # The "Latency Distribution" line, not a "+/- Stdev" column such as "87.99%".
    value = re.search(r"^\s*99%\s+(\S+)", wrk_output, re.MULTILINE).group(1)  # type: ignore[union-attr]
    for unit, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * scale
    return float(value)


def yardstick(seconds: int, connections: int) -> dict[str, float]:
    """Measure the hello-world and print it."""
    r = measure(seconds, connections)
    print(
        f"yardstick, aiohttp hello-world under the same wrk: {r['per_s']:.0f} requests/s, "
        f"p99 {r['p99_ms']:.2f} ms, {r['cpu_us']:.0f} us CPU/request",
        flush=True,
    )
    return r


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    else:
        yardstick(10, 50)
