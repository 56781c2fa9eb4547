"""A server process killed (SIGKILL) while the Graph API refuses its sends, started again:
every answer already queued is sent once, in order; nothing is answered twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.conftest import TEST_REDIS_URL
from tests.redis_server import free_port
from tests.ussd_harness import HOUSEHOLD, PHONE, load_registry
from tests.whatsapp_harness import (
    NUMBER_ID,
    SIM,
    WaPhone,
    WaSim,
    body,
    sim_fixture,  # noqa: F401 (a fixture)
)

ROOT = Path(__file__).resolve().parent.parent


async def start(env: dict[str, str], port: int, sim: WaSim) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "ussd_server", "serve", "--port", str(port)]
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(150):
            try:
                async with http.get(f"{base}/healthz") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    await sim.call("/control/config", {"webhook_url": f"{base}/whatsapp/webhook"})
    return server


async def test_answers_queued_before_a_kill_are_sent_once_after_the_restart(
    sim: WaSim, redis, keys, key_prefix: str
) -> None:
    await load_registry(redis, keys)
    env = {
        **os.environ, **SIM,
        "USSD_REDIS_URL": TEST_REDIS_URL, "USSD_REDIS_KEY_PREFIX": key_prefix,
        "USSD_TICKETS_SIGNING_KEY": "k", "USSD_OPERATOR_API_TOKEN": "restart-test-token-0123",
        "USSD_CONSOLE_SESSION_KEY": "restart-test-console-key",  # no var/secrets needed
        "USSD_USSD_ALLOW_UNAUTHENTICATED": "true", "USSD_WHATSAPP_ENABLED": "true",
        "USSD_WHATSAPP_GRAPH_BASE_URL": sim.graph_base_url,
        "USSD_WHATSAPP_PHONE_NUMBER_ID": NUMBER_ID,
        "USSD_WHATSAPP_RETRY_MIN_SECONDS": "0.05", "USSD_WHATSAPP_RETRY_MAX_SECONDS": "0.3",
    }  # fmt: skip
    port, phone, other = free_port(), WaPhone(sim, PHONE), WaPhone(sim, HOUSEHOLD)
    server = await start(env, port, sim)
    try:
        await phone.type("VAKSIN")
        await sim.call("/control/config", {"fail": [503] * 10_000})  # the Graph API is down
        await sim.call("/control/inject", {"from": PHONE, "button": "hw_confirm.yes"})
        await sim.call("/control/inject", {"from": PHONE, "type": "sticker"})
        await sim.call("/control/inject", {"from": HOUSEHOLD, "text": "VAKSIN"})
        for _ in range(100):  # until the sender has tried (and failed) for both phones
            if (await sim.call("/control/stats"))["refused"] >= 2:
                break
            await asyncio.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        assert await phone.settle(0.2) == [] and await other.settle(0) == []
        await sim.call("/control/config", {"fail": []})  # the Graph API is back
        server = await start(env, port, sim)
        ask, notice = (await sim.received(PHONE, phone.seen + 2))[phone.seen :]
        assert "6 digit terakhir NIK" in body(ask) and "Mohon balas dengan teks" in body(notice)
        [question] = await sim.received(HOUSEHOLD, 1)
        assert "tenaga kesehatan" in body(question)
        phone.seen, other.seen = phone.seen + 2, 1
        assert await phone.settle() == [] and await other.settle(0) == []  # once each
    finally:
        server.terminate()
        server.wait(15)
