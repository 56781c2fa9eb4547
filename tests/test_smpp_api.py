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

from core.config import Config
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_smpp_support import Sim, seed_workers, sim_fixture, smpp_overrides  # noqa: F401
from tests.ussd_harness import running_server

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


@pytest.fixture
async def plain_api(config: Config, redis: aioredis.Redis) -> AsyncIterator[str]:
    """The server without its SMS channel: campaigns change state only by the API."""
    async with running_server(config) as base:
        yield f"{base}/api"


async def test_a_cancel_answered_200_is_final_even_racing_a_resume(plain_api: str) -> None:
    async with aiohttp.ClientSession(headers=TOKEN) as http:

        async def act(name: str, action: str) -> tuple[int, dict[str, Any]]:
            async with http.post(f"{plain_api}/campaigns/{name}/{action}") as resp:
                return resp.status, await resp.json()

        rounds, refusals = [], []
        for i in range(30):
            name = f"race{i}"
            body = {"name": name, "template": "Halo {first_name}"}
            async with http.post(f"{plain_api}/campaigns", json=body) as resp:
                assert resp.status == 201
            assert [(await act(name, a))[0] for a in ("start", "pause")] == [200, 200]
            cancel, resume = await asyncio.gather(act(name, "cancel"), act(name, "resume"))
            async with http.get(f"{plain_api}/campaigns/{name}") as resp:
                rounds.append((cancel[0], resume[0], (await resp.json())["state"]))
            if resume[0] != 200:
                refusals.append(resume)
        # Whatever the order, the cancel applies (after the resume, or alone) and holds.
        assert {(c, final) for c, _, final in rounds} == {(200, "cancelled")}, rounds
        # A resume that came second is refused, saying the state it found.
        stated = {"error": "cannot resume a campaign that is cancelled", "state": "cancelled"}
        assert all(r == (409, stated) for r in refusals), refusals


@pytest.mark.parametrize(
    ("extra", "word"),
    [
        ({"filters": {"regency": []}}, "empty list"),
        ({"filters": {"regency": None}}, "null"),
        ({"filters": {"regency": True}}, "true"),
        ({"filters": {"facility_id": [12]}}, "12"),
        ({"filters": [7]}, "string"),
        ({"only_unregistered": "false"}, "only_unregistered"),
        ({"only_unregistered": None}, "only_unregistered"),
    ],
)
async def test_a_filter_or_option_that_is_no_clear_value_is_refused(
    plain_api: str, extra: dict[str, Any], word: str
) -> None:
    body = {"name": "f1", "template": "Halo {first_name}", **extra}
    status, answer = await call("POST", f"{plain_api}/campaigns", body)
    assert status == 400 and word in answer["error"], answer
    assert (await call("GET", f"{plain_api}/campaigns/f1"))[0] == 404  # nothing stored


async def test_only_unregistered_false_is_stored_as_false(plain_api: str) -> None:
    body = {"name": "f2", "template": "Halo", "only_unregistered": False, "filters": None}
    status, created = await call("POST", f"{plain_api}/campaigns", body)
    assert status == 201 and created["only_unregistered"] is False and created["filters"] == {}
