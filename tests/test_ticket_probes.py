"""Ticket images (/tickets/<code>.png) are public: a client guessing codes is slowed down,
counted per client, the forwarded one behind a proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import make_test_config
from tests.ussd_harness import running_server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_a_client_probing_ticket_codes_is_slowed_down(
    key_prefix: str, http: aiohttp.ClientSession, redis
) -> None:
    config = make_test_config(key_prefix, **{"ticket_images.probe_limit": 3})
    async with running_server(config) as base:
        statuses = []
        for n in range(5):
            async with http.get(f"{base}/tickets/ZZZZZZ{n}2.png") as resp:
                statuses.append(resp.status)
    assert statuses == [404, 404, 404, 429, 429]  # three misses allowed per window


async def test_behind_a_proxy_ticket_probes_are_counted_per_forwarded_client(
    key_prefix: str, http: aiohttp.ClientSession, redis
) -> None:
    settings = {"ticket_images.probe_limit": 2, "http.client_address_header": "X-Forwarded-For"}
    config = make_test_config(key_prefix, **settings)
    statuses: dict[str, list[int]] = {"203.0.113.7": [], "198.51.100.9": []}
    async with running_server(config) as base:
        for client in ["203.0.113.7"] * 3 + ["198.51.100.9"]:
            headers = {"X-Forwarded-For": client}
            async with http.get(f"{base}/tickets/ZZZZZZ12.png", headers=headers) as resp:
                statuses[client].append(resp.status)
    assert statuses == {"203.0.113.7": [404, 404, 429], "198.51.100.9": [404]}
