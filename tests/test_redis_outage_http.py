"""Redis goes away and comes back under a running server: what HTTP clients see.

/metrics keeps answering (the Redis-read gauges left out, the failure counted), a
ticket image answers 503 without a traceback in the log, and after the restart no
stale pooled connection turns into a 503 from /healthz. Uses its own redis-server on
a free port (never the shared one), killed and restarted by the test.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from tests.redis_server import needs_redis_server, own_redis
from tests.test_metrics import samples, value
from tests.ussd_harness import config_on_loaded_redis, running_server

pytestmark = needs_redis_server

DEPTH = "vaksin_sms_outbox_depth"
ERRORS = "vaksin_redis_errors_total"


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as resp:
        return resp.status, await resp.text()


async def _metrics(http: aiohttp.ClientSession, base: str) -> dict:
    status, body = await _get(http, f"{base}/metrics")
    assert status == 200, body
    return samples(body)


async def _healthz_burst(http: aiohttp.ClientSession, base: str, n: int = 12) -> list[int]:
    """n /healthz at once: each takes a pooled connection of its own."""
    replies = await asyncio.gather(*(_get(http, f"{base}/healthz") for _ in range(n)))
    return [status for status, _ in replies]


def _lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno >= logging.WARNING]


async def test_metrics_tickets_and_healthz_through_a_redis_restart(
    tmp_path, key_prefix, caplog
) -> None:
    caplog.set_level(logging.WARNING)
    server = own_redis(tmp_path, appendonly=True)
    try:
        config = await config_on_loaded_redis(server.url, key_prefix, **{"web.enabled": True})
        jar = aiohttp.CookieJar(unsafe=True)  # keeps the site's cookie for 127.0.0.1
        async with running_server(config) as base, aiohttp.ClientSession(cookie_jar=jar) as http:
            assert await _healthz_burst(http, base) == [200] * 12  # a pool of connections
            assert (await _get(http, f"{base}/daftar"))[0] == 200  # the site's session cookie
            before = await _metrics(http, base)
            assert (DEPTH, ()) in before
            server.stop()
            caplog.clear()

            # Down: /metrics still answers, without the Redis-read gauges, and counts it.
            down = await _metrics(http, base)
            again = await _metrics(http, base)
            assert (DEPTH, ()) not in down and (DEPTH, ()) not in again
            assert value(again, ERRORS, client="metrics") > value(down, ERRORS, client="metrics")
            assert value(down, ERRORS, client="metrics") >= 1
            assert len(_lines(caplog, "ussd_server.metrics_route")) == 1  # once per outage

            status, body = await _get(http, f"{base}/tickets/ABCD1234.png")
            assert status == 503, body
            assert "unavailable" in body
            assert len(_lines(caplog, "ussd_server.public_routes")) == 1

            # The website: a page that needs the session answers "busy" with 503, counted.
            for _ in range(5):
                status, body = await _get(http, f"{base}/daftar")
                assert status == 503 and "sibuk" in body.lower(), (status, body[:200])
            first = _lines(caplog, "core.redis_outage")[0].getMessage()
            assert first.startswith("1 web requests failed: Redis unavailable")
            assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]

            server.start()  # on the same port; start() returns once Redis answers PING
            # Every pooled connection from before the restart is dead: none may show.
            assert await _healthz_burst(http, base) == [200] * 12
            after = await _metrics(http, base)
            assert (DEPTH, ()) in after
    finally:
        server.stop()
