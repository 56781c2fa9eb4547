"""One measured blast: `python -m ussd_server blast run NAME` in one or more processes.

The campaign is created and its recipients queued here (not measured); then the
processes start, and each one's CPU is read from /proc when the queue first
shrinks (start-up: imports, connections, the bind) and from the kernel when it
exits (``wait4``): the difference is what sending cost, the whole process. The
SMSC simulator's CPU (its control port) and Redis's (``INFO cpu``) over the same
interval are read beside it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from bench.sms_peers import Keys, Smsc, redis_cpu
from core.config import PROJECT_ROOT, load_config
from core.redis_client import connect_lean
from core.settings import redis_settings
from registration.service import Registry
from smpp import campaigns
from smpp.blaster import CampaignRunner
from smpp.campaign_store import CampaignStore
from smpp.settings import blast_settings

TEMPLATE = (
    "{first_name} (NIK: {nik_masked}), Anda calon penerima Vaksin COVID-19. "
    "Balas {keyword} ke {short_code} untuk mendaftar."
)
# Two GSM-7 parts for everyone: each recipient's message needs a concatenation reference.
LONG_TEMPLATE = TEMPLATE + (
    " Vaksinasi gratis untuk tenaga kesehatan. Siapkan NIK Anda, jawab pertanyaan"
    " skrining dengan jujur, pilih jadwal, lalu simpan kode tiket yang dikirim lewat SMS."
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Blast:
    """What to run: the processes, the binds each opens, the account's rate."""

    name: str
    workers: int = 1
    binds: int = 1
    rate: float = 0.0
    filters: dict[str, list[str]] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    template: str = TEMPLATE


def proc_cpu(pid: int) -> float:
    """utime + stime of a running process, in seconds (clock-tick resolution)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _env(redis_url: str, keys: Keys, smsc: Smsc, blast: Blast, metrics_dir: str) -> dict[str, str]:
    env = dict(
        os.environ,
        USSD_REDIS_URL=redis_url,
        USSD_REDIS_KEY_PREFIX=keys.prefix,
        USSD_SMPP_PORT=str(smsc.smpp_port),
        USSD_SMPP_PASSWORD="devpass",
        USSD_SMPP_RATE=str(blast.rate),
        USSD_TICKETS_SIGNING_KEY="bench-signing-key",
        USSD_METRICS_MULTIPROC_DIR=metrics_dir,
    )
    if blast.binds > 1:
        env["USSD_SMPP_CONNECTIONS"] = json.dumps([{}] * blast.binds)
    env.update(blast.extra_env)
    return env


async def prepare(redis: aioredis.Redis, redis_url: str, keys: Keys, blast: Blast) -> int:
    """Create, start and queue the campaign; returns its recipients."""
    config = load_config(
        environ={"USSD_TICKETS_SIGNING_KEY": "bench-signing-key"},
        overrides={"redis.key_prefix": keys.prefix, "redis.url": redis_url},
    )
    store = CampaignStore(redis, keys)
    settings = blast_settings(config)
    await campaigns.create(store, settings, blast.name, blast.template, blast.filters, False)
    await campaigns.transition(store, blast.name, "start")
    lean = connect_lean(redis_settings(config))  # per master on a cluster
    try:
        registry = Registry.from_config(config, redis)
        runner = CampaignRunner(store, registry, None, None, settings, lean=lean)  # type: ignore[arg-type]
        return await runner.materialize(blast.name)
    finally:
        await lean.aclose()


async def measure(
    redis: aioredis.Redis, redis_url: str, keys: Keys, smsc: Smsc, blast: Blast
) -> dict[str, Any]:
    """Run the prepared campaign to the end; CPU and wall time of the sending part."""
    total = await prepare(redis, redis_url, keys, blast)
    metrics_dir = tempfile.mkdtemp(prefix="bench-sms-metrics-")  # as in production: files
    env = _env(redis_url, keys, smsc, blast, metrics_dir)
    argv = [sys.executable, "-m", "ussd_server", "blast", "run", blast.name]
    procs = [
        subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL)
        for _ in range(blast.workers)
    ]
    meta = keys.campaign_meta(blast.name)
    try:
        sim0, redis0 = smsc.call("/stats"), await redis_cpu(redis)
        t0, started = await _started(redis, keys.campaign_senders(blast.name), procs)
        while await redis.hget(meta, "state") != "done":
            await asyncio.sleep(0.005)
        wall = time.perf_counter() - t0
        sim1, redis1 = smsc.call("/stats"), await redis_cpu(redis)
        used = [_reap(p) - cpu for p, cpu in zip(procs, started, strict=True)]
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                p.wait()
        shutil.rmtree(metrics_dir, ignore_errors=True)
    progress = await CampaignStore(redis, keys).progress(blast.name)
    assert progress is not None
    return {
        "recipients": total,
        "wall_s": wall,
        "cpu_s": sum(used),
        "cpu_each": used,
        "startup_cpu_s": started,
        "sim_cpu_s": sim1["cpu_seconds"] - sim0["cpu_seconds"],
        "redis_cpu_s": redis1 - redis0,
        "throttled": sim1["throttled"] - sim0["throttled"],
        "smsc_submits": sim1["submits"] - sim0["submits"],
        "progress": progress,
    }


async def _started(
    redis: aioredis.Redis, senders: str, procs: list[subprocess.Popen[bytes]]
) -> tuple[float, list[float]]:
    """When the first process starts sending, and each one's CPU when it does (its first
    heartbeat names its pid)."""
    started: dict[int, float] = {}
    first = 0.0
    while len(started) < len(procs):
        owners = await redis.hkeys(senders)
        pids = {int(owner.split(":")[-2]) for owner in owners}
        for proc in procs:
            if proc.pid in pids and proc.pid not in started:
                started[proc.pid] = proc_cpu(proc.pid)
                first = first or time.perf_counter()
            if proc.poll() is not None:
                raise RuntimeError(f"blast run exited early ({proc.returncode})")
        await asyncio.sleep(0.002)
    return first, [started[p.pid] for p in procs]


def _reap(proc: subprocess.Popen[bytes]) -> float:
    """Wait for the process; its whole CPU time (kernel accounting, microseconds)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime
