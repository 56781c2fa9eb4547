"""`make run`'s private Redis: started on demand, append-only, data survive a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis as sync_redis

from devtools.private_redis import PrivateRedis, plan_redis
from tests.conftest import TEST_REDIS_URL
from tests.redis_server import free_port


def test_data_survive_a_restart_of_the_private_server(tmp_path: Path) -> None:
    port = free_port()
    url, server = plan_redis("", port, tmp_path / "redis")
    assert server is not None and url.endswith(f":{port}/0")
    server.start()
    try:
        client = sync_redis.Redis.from_url(url)
        client.set("vx:survives", "yes")
        client.close()
    finally:
        server.stop()
    assert (tmp_path / "redis").exists()
    again = PrivateRedis(port=port, data_dir=tmp_path / "redis")
    again.start()
    try:
        client = sync_redis.Redis.from_url(again.url)
        assert client.get("vx:survives") == b"yes"
        client.close()
    finally:
        again.stop()


def test_a_reachable_configured_redis_is_used_as_it_is(tmp_path: Path) -> None:
    # The Redis the tests are told to use (USSD_TEST_REDIS_URL), whatever it is.
    url, server = plan_redis(TEST_REDIS_URL, free_port(), tmp_path)
    assert (url, server) == (TEST_REDIS_URL, None)


def test_an_unreachable_remote_redis_is_an_error_not_a_silent_local_one(tmp_path: Path) -> None:
    # The probe stands in for the network: tests only ever talk to loopback.
    with pytest.raises(RuntimeError, match="does not answer"):
        plan_redis(
            "redis://redis.example.invalid:6379/0", free_port(), tmp_path, lambda h, p: False
        )
