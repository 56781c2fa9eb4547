"""The blast on one Redis and on a cluster: `blast run` with 1 and 2 binds (bench.sms_runs)."""

from __future__ import annotations

import argparse
import uuid

from bench.sms_peers import Keys, Smsc, seed
from bench.sms_runs import Blast, measure
from core.config import load_config
from core.redis_client import connect
from core.settings import redis_settings


async def blast_figures(args: argparse.Namespace, label: str, url: str, wait: int) -> None:
    """Submit rate and whole-process CPU of one `blast run` process, 1 and 2 binds (window
    50 each) into the lean development SMSC; with WAIT on, its flushes wait for a replica."""
    prefix = "bcb" + uuid.uuid4().hex[:8]
    config = load_config(overrides={"redis.url": url, "redis.key_prefix": prefix})
    redis, keys, smsc = connect(redis_settings(config)), Keys(prefix=prefix), Smsc.lean()
    try:
        await seed(redis, keys, args.recipients)
        for binds in (1, 2) if not wait else (1,):
            env = {"USSD_REDIS_WAIT_REPLICAS": str(wait)}
            blast = Blast(f"c{binds}", binds=binds, extra_env=env)
            r = await measure(redis, url, keys, smsc, blast)
            n = r["progress"]["submitted"]
            print(
                f"{label}: blast, 1 process x {binds} bind{'s' * (binds > 1)}: "
                f"{n / r['wall_s']:,.0f} submit_sm/s ({n:,}), blast run "
                f"{r['cpu_s'] / n * 1000:.3f} CPU s per 1,000, Redis "
                f"{r['redis_cpu_s'] / n * 1000:.3f}; the SMSC counted {r['smsc_submits']:,}",
                flush=True,
            )
    finally:
        smsc.stop()
        async for key in redis.scan_iter(match=f"{prefix}:*", count=5000):
            await redis.unlink(key)
        await redis.aclose()
