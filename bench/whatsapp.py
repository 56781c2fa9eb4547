"""WhatsApp benchmark: whole registrations as webhooks through the server to the dev Graph API.

    python -m bench whatsapp [--duration 10] [--users 32] [--workers 1]

Loads a registry (as the USSD benchmark does) into Redis 127.0.0.1:6379 db 13
under a unique key prefix, starts the development Graph API (no status
webhooks) and `ussd_server serve` with the WhatsApp channel pointed at it. Each
of `--users` simulated phones plays whole registrations with distinct numbers:
a signed webhook per step posted to /whatsapp/webhook (as Meta would), then a
wait until the server's answer has reached the Graph API (its 1 or 2 messages,
every answer checked). Prints webhook messages/s, registrations/s, latency
percentiles from posting the webhook to the Graph API accepting the last message
of its answer, failed registrations, and CPU per message of the server, the
Graph API simulator and the load generator (they share the machine). Deletes
exactly its own keys afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import signal
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.ussd import (
    cleanup,
    cpu_seconds,
    free_port,
    load,
    nik,
    server_pids,
    start_server,
)
from devtools import wa_webhooks
from devtools.wa_sim_process import WaSimProcess

REDIS_URL = "redis://127.0.0.1:6379/13"
# What the development Graph API plays by default ([wa_sim]), handed to the server.
SECRET, TOKEN, NUMBER = "dev-whatsapp-app-secret", "dev-whatsapp-access-token", "100000000000001"


@dataclass
class Load:
    http: aiohttp.ClientSession
    webhook: str
    sim: str
    groups: int
    deadline: float
    next_index: int = 0
    steps: int = 0
    registrations: int = 0
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    async def step(self, phone: str, seen: int, replies: int, **what: Any) -> list[dict]:
        """Post one message as Meta would; wait for the answer at the Graph API."""
        incoming = wa_webhooks.message(phone, **what)
        body, headers = wa_webhooks.signed(
            SECRET, wa_webhooks.message_notification(NUMBER, incoming)
        )
        posted = time.time()
        async with self.http.post(self.webhook, data=body, headers=headers) as resp:
            if resp.status != 200:
                raise AssertionError(f"webhook answered {resp.status}")
        url = f"{self.sim}/control/wait?to={phone}&count={seen + replies}&timeout=10"
        async with self.http.get(url) as resp:
            received = (await resp.json())["messages"][seen:]
        if len(received) < replies:
            raise AssertionError(f"{len(received)} of {replies} replies to {what}")
        self.latencies.append(received[replies - 1]["at"] - posted)
        self.steps += 1
        return received

    async def journey(self, index: int) -> None:
        phone, seen = f"62811{index:08d}", 0

        async def step(replies: int = 1, **what: Any) -> dict:
            nonlocal seen
            received = await self.step(phone, seen, replies, **what)
            seen += replies
            return received[-1]

        await step(text="VAKSIN")
        await step(button=("hw_confirm.yes", "Ya"))
        await step(text=nik(index)[-6:])
        await step(button=("worker_confirm.1", "Benar, lanjut"))
        for group in range(1, self.groups):
            await step(button=(f"screening.{group}.no", "Tidak"))
        slots = await step(button=(f"screening.{self.groups}.no", "Tidak"))
        row = slots["interactive"]["action"]["sections"][0]["rows"][0]
        await step(row=(row["id"], row["title"], row.get("description", "")))
        done = await step(2, button=("confirm.1", "Ya, daftarkan"))
        if "Kode tiket" not in done["text"]["body"]:
            raise AssertionError(f"no ticket code in {done}")
        self.registrations += 1

    async def user(self) -> None:
        in_a_row = 0
        while time.monotonic() < self.deadline and in_a_row < 3:  # a broken run stops soon
            index, self.next_index = self.next_index, self.next_index + 1
            try:
                await self.journey(index)
                in_a_row = 0
            except (AssertionError, KeyError, aiohttp.ClientError, TimeoutError) as exc:
                self.failures.append(f"phone {index}: {exc}"[:200])
                in_a_row += 1


async def json_get(url: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return await resp.json()


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def drive(args: argparse.Namespace, port: int, sim: WaSimProcess, groups: int) -> dict:
    webhook = f"http://127.0.0.1:{port}/whatsapp/webhook"
    async with aiohttp.ClientSession() as http:
        await http.post(f"{sim.url}/control/config", json={"webhook_url": webhook})
        connector = aiohttp.TCPConnector(limit=4 * args.users)
        async with aiohttp.ClientSession(connector=connector) as many:
            run = Load(many, webhook, sim.url, groups, time.monotonic() + args.duration)
            started, cpu = time.monotonic(), own_cpu()
            await asyncio.gather(*(run.user() for _ in range(args.users)))
            return {"run": run, "seconds": time.monotonic() - started, "cpu": own_cpu() - cpu}


def report(result: dict, server_cpu: float, sim_cpu: float) -> bool:
    run: Load = result["run"]
    seconds, steps = result["seconds"], max(run.steps, 1)
    lat = sorted(run.latencies) or [0.0]

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000

    print(
        f"{run.steps / seconds:.0f} webhook messages/s, {run.registrations / seconds:.1f} "
        f"registrations/s ({run.registrations} in {seconds:.1f}s), latency webhook -> send "
        f"p50 {pct(50):.1f} ms, p90 {pct(90):.1f} ms, p99 {pct(99):.1f} ms "
        f"(mean {statistics.fmean(lat) * 1000:.1f} ms), failed registrations {len(run.failures)}"
    )
    print(
        f"CPU per message: server {server_cpu * 1e6 / steps:.0f} us, Graph API simulator "
        f"{sim_cpu * 1e6 / steps:.0f} us, load generator {result['cpu'] * 1e6 / steps:.0f} us"
    )
    for failure in run.failures[:5]:
        print(f"  {failure}")
    return not run.failures and run.registrations > 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench whatsapp",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load")
    parser.add_argument("--users", type=int, default=32, help="phones talking at once")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args(argv)
    prefix, phones = "bw" + uuid.uuid4().hex[:8], max(2000, args.users * args.duration * 10)
    groups = asyncio.run(load(prefix, phones, REDIS_URL))
    print(
        f"loaded {phones} health workers (prefix {prefix}, {REDIS_URL}); {args.users} phones "
        f"for {args.duration}s, {args.workers} worker(s), {6 + groups} messages a registration"
    )
    sim, port, server = WaSimProcess.start("--no-statuses"), free_port(), None
    try:
        server = start_server(
            prefix, port, args.workers, redis_url=REDIS_URL, USSD_WHATSAPP_ENABLED="true",
            USSD_WHATSAPP_GRAPH_BASE_URL=sim.graph_base_url,
            USSD_WHATSAPP_PHONE_NUMBER_ID=NUMBER, USSD_WHATSAPP_ACCESS_TOKEN=TOKEN,
            USSD_WHATSAPP_APP_SECRET=SECRET, USSD_WHATSAPP_VERIFY_TOKEN="bench-verify",
        )  # fmt: skip
        pids = server_pids(server.pid)
        server_before, sim_before = cpu_seconds(pids), cpu_seconds([sim.proc.pid])
        result = asyncio.run(drive(args, port, sim, groups))
        sim_cpu = cpu_seconds([sim.proc.pid]) - sim_before
        ok = report(result, cpu_seconds(pids) - server_before, sim_cpu)
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=20)
        sim.stop()
        print(f"cleaned {asyncio.run(cleanup(prefix, REDIS_URL))} keys")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
