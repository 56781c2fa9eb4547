"""Redis goes away mid-journey: hops get a polite "busy" END, and the server recovers.

Uses its own redis-server on a free port (never the shared one), killed and
restarted by the test.
"""

from __future__ import annotations

import logging

import aiohttp

from tests.redis_server import needs_redis_server, own_redis
from tests.ussd_harness import PHONE, AtPhone, config_on_loaded_redis, running_server

pytestmark = needs_redis_server


async def test_busy_screen_while_redis_is_down_then_recovery(tmp_path, key_prefix):
    server = own_redis(tmp_path, appendonly=True)
    try:
        config = await config_on_loaded_redis(server.url, key_prefix)
        async with running_server(config) as base, aiohttp.ClientSession() as http:
            phone = AtPhone(http, base, PHONE, "rr-1")
            assert "Daftar vaksinasi" in await phone.dial()
            assert "tenaga kesehatan" in await phone.send("1")
            server.stop()
            busy = await phone.send("1")
            assert phone.ended and "sibuk" in busy
            server.start()  # append-only file: the session is back
            phone.inputs.pop()
            assert "6 digit terakhir NIK" in await phone.send("1")
    finally:
        server.stop()


async def test_an_outage_is_counted_in_the_log_not_a_traceback_per_hop(
    tmp_path, key_prefix, caplog
):
    """Every dial during an outage answers "busy"; the log says how many, not each one."""
    caplog.set_level(logging.WARNING)
    server = own_redis(tmp_path)
    try:
        config = await config_on_loaded_redis(server.url, key_prefix)
        async with running_server(config) as base, aiohttp.ClientSession() as http:
            assert "Daftar vaksinasi" in await AtPhone(http, base, PHONE, "ro-0").dial()
            server.stop()
            caplog.clear()
            for n in range(1, 9):
                phone = AtPhone(http, base, f"62812555000{n:02d}", f"ro-{n}")
                assert "sibuk" in await phone.dial()
    finally:
        server.stop()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    outage = [r.getMessage() for r in caplog.records if r.name == "core.redis_outage"]
    assert outage and outage[0].startswith("1 ussd hops failed: Redis unavailable")
    assert len(outage) < 8  # the other hops are counted into a later line, not one each
