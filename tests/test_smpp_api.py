"""Campaigns through the operator API of the real server, with the SMS channel running
inside it (app factory, `[smpp] enabled = true`) bound to the simulator process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_smpp_support import Sim, seed_workers, sim_fixture, smpp_overrides  # noqa: F401

TOKEN = {"Authorization": "Bearer test-operator-token"}


@pytest.fixture
async def api(sim: Sim, redis: aioredis.Redis, key_prefix: str) -> AsyncIterator[str]:
    from ussd_server.app import create_app

    config = make_test_config(key_prefix, **smpp_overrides(sim))
    runner = web.AppRunner(create_app(config, sms=True), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/api"
    finally:
        await runner.cleanup()


async def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, json=body, headers=TOKEN) as resp,
    ):
        return resp.status, await resp.json()


async def test_campaign_lifecycle_over_the_api(
    api: str, sim: Sim, redis: aioredis.Redis, keys: AllKeys
) -> None:
    workers = await seed_workers(redis, keys, 50)
    body = {
        "name": "api1",
        "template": "Halo {first_name}, balas {keyword} ke {short_code}.",
        "filters": {"regency": "Bandung"},
        "only_unregistered": True,
    }
    status, created = await call("POST", f"{api}/campaigns", body)
    assert status == 201 and created["state"] == "draft"
    assert created["lint"] == {"encoding": "gsm7", "parts": 1, "characters": 38, "warnings": []}
    status, started = await call("POST", f"{api}/campaigns/api1/start")
    assert status == 200 and started["state"] == "running"
    for _ in range(200):
        status, p = await call("GET", f"{api}/campaigns/api1")
        if p["state"] == "done" and p["delivered"] == 50:
            break
        await asyncio.sleep(0.1)
    assert (p["state"], p["submitted"], p["delivered"], p["failed"], p["queued"]) == (
        "done",
        50,
        50,
        0,
        0,
    )
    assert "rate" in p and "expired" in p
    counts = await sim.call("/counts")
    assert sorted(counts) == sorted(phone for _, phone in workers)
    status, listing = await call("GET", f"{api}/campaigns")
    assert status == 200 and [c["name"] for c in listing["campaigns"]] == ["api1"]


async def test_bad_requests_get_json_reasons(api: str) -> None:
    ok = {"name": "b1", "template": "Halo {first_name}"}
    cases = [
        ({"name": "b2", "template": "Halo {nama}"}, 400, "nama"),
        ({"name": "b3", "template": "Halo", "filters": {"planet": "Mars"}}, 400, "planet"),
        ({"name": "bad name!", "template": "Halo"}, 400, "name"),
        ({"template": "Halo"}, 400, "name"),
    ]
    for body, code, word in cases:
        status, answer = await call("POST", f"{api}/campaigns", body)
        assert status == code and word in answer["error"], (body, answer)
    assert (await call("POST", f"{api}/campaigns", ok))[0] == 201
    status, answer = await call("POST", f"{api}/campaigns", ok)
    assert status == 400 and "exists" in answer["error"]
    status, answer = await call("POST", f"{api}/campaigns/b1/resume")
    assert status == 409 and "draft" in answer["error"]
    assert (await call("GET", f"{api}/campaigns/nope"))[0] == 404
    assert (await call("POST", f"{api}/campaigns/b1/explode"))[0] == 404
    status, warned = await call(
        "POST", f"{api}/campaigns", {"name": "b4", "template": "Halo {first_name} “aman” – 😀"}
    )
    assert status == 201 and warned["lint"]["encoding"] == "ucs2"
    assert "EN DASH" in warned["lint"]["warnings"][0]
    status, cancelled = await call("POST", f"{api}/campaigns/b4/cancel")
    assert status == 200 and cancelled["state"] == "cancelled"
