"""The operator API's limits and outages: bodies held to their setting, Redis away a 503
(docs/operator.md), over real HTTP against a running server."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import aiohttp
import pytest

from core.config import Config
from core.settings import http_settings
from tests.conftest import make_test_config
from tests.redis_server import needs_redis_server, own_redis
from tests.test_openapi import Answers
from tests.test_operator_api import (  # noqa: F401  (fixtures)
    TOKEN,
    http_fixture,
    load,
    server_fixture,
)
from tests.ussd_harness import facility_lines, running_server
from ussd_server.app import create_app
from ussd_server.operator_api import DOCUMENT


@needs_redis_server
async def test_redis_away_is_a_503_json_with_one_warning_not_a_traceback(
    key_prefix: str, http: aiohttp.ClientSession, tmp_path: Path, caplog
) -> None:
    """Every /api call answered 500 and logged a full traceback during an outage."""
    server = own_redis(tmp_path)
    try:
        config = make_test_config(key_prefix, **{"redis.url": server.url})
        answers = Answers(create_app(config)[DOCUMENT])
        async with running_server(config) as base:
            async with http.get(f"{base}/api/stats", headers=TOKEN) as resp:
                assert resp.status == 200
            server.stop()
            caplog.clear()
            with caplog.at_level(logging.INFO):
                for method, path in (("GET", "/api/stats"), ("GET", "/api/facilities")):
                    async with http.request(method, base + path, headers=TOKEN) as resp:
                        assert resp.status == 503, await resp.text()
                        assert resp.content_type == "application/json"
                        body = await resp.json()
                        assert "not reachable" in body["error"]
                        answers.check(method.lower(), path, 503, body)  # as described
        assert "Traceback" not in caplog.text
        assert not [r for r in caplog.records if r.exc_info]
        warned = [r for r in caplog.records if "Redis not reachable" in r.getMessage()]
        assert len(warned) == 2 and all(r.levelno == logging.WARNING for r in warned)
    finally:
        server.stop()


async def _post(http: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, dict]:
    headers = {**TOKEN, "Content-Type": "application/json"}
    async with http.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_json_call_over_max_body_bytes_gets_413_naming_the_limit(
    server: str, http: aiohttp.ClientSession, config: Config, chunked: bool
) -> None:
    """check-in took a 5 MB body and campaigns a 300 KB template: the API used the CSV
    upload limit for every call."""
    limit = http_settings(config).max_body_bytes
    check_in = {"payload": "A" * (limit + 10), "facility_id": "X"}
    campaign = {"name": "toolarge", "template": "x" * (limit + 10)}
    for path, data in (("/api/check-in", check_in), ("/api/campaigns", campaign)):
        raw = json.dumps(data).encode()

        async def chunks(raw: bytes = raw):  # no Content-Length: read until it is too much
            for start in range(0, len(raw), 4096):
                yield raw[start : start + 4096]

        status, body = await _post(http, server + path, chunks() if chunked else raw)  # type: ignore[arg-type]
        assert status == 413, (path, body)
        assert body["error"] == f"body is over {limit} bytes ([http] max_body_bytes)"
    async with http.get(f"{server}/api/campaigns/toolarge", headers=TOKEN) as resp:
        assert resp.status == 404  # nothing was created
    # Within the limit the calls work as before.
    status, body = await _post(
        http, f"{server}/api/check-in", b'{"payload":"NOPE","facility_id":"X"}'
    )
    assert status == 200, body


async def test_a_csv_upload_may_be_larger_than_max_body_bytes(
    server: str, http: aiohttp.ClientSession, config: Config
) -> None:
    limit = http_settings(config).max_body_bytes
    lines = facility_lines(extra=0)
    padding = [f"F{n:04d},Puskesmas {'x' * 60},Kota Bandung,Jl. Y,10" for n in range(400)]
    body = ("\n".join(lines + padding) + "\n").encode()
    assert len(body) > limit
    headers = {**TOKEN, "Content-Type": "text/csv"}
    async with http.post(f"{server}/api/facilities", data=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["rows_bad"] == 0
