"""`python -m ussd_server sms-inject` walks a person through the SMS dialogue locally."""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aioredis

from smpp.service import SmsService
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_smpp_support import ROOT, Sim, sim_fixture, smpp_overrides  # noqa: F401
from tests.ussd_harness import PHONE, load_registry
from ussd_server.context import build_context


async def test_sms_inject_prints_the_reply(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> None:
    await load_registry(redis, keys)
    config = make_test_config(key_prefix, **smpp_overrides(sim))
    ctx = build_context(config)
    svc = SmsService(config, ctx.redis, ctx.outbox, ctx.registry, ctx.engine)
    await svc.start()
    try:
        assert await svc.pool.wait_ready(5)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ussd_server",
            "sms-inject",
            "--control",
            sim.url,
            "--from",
            "+62 812-0000-0001",  # PHONE as people write it (was an InvalidURL traceback)
            "--text",
            "vaksin",
            "--wait",
            "2",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
    finally:
        await svc.stop()
        await ctx.aclose()
    text = out.decode()
    assert proc.returncode == 0
    assert f"> {PHONE} -> 1199: vaksin" in text
    assert "< Apakah Anda tenaga kesehatan" in text and "Balas YA atau TIDAK" in text


async def test_sms_inject_refuses_a_sender_that_is_no_mobile_number(sim: Sim) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ussd_server", "sms-inject", "--control", sim.url,
        "--from", "BANK 1199", "--text", "vaksin", "--wait", "0",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 2 and "--from:" in err.decode()
    assert "Traceback" not in err.decode() and out == b""
