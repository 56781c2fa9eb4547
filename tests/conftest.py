"""Shared fixtures: a real Redis, isolated per test by a unique key prefix.

Tests use the machine's Redis (``USSD_TEST_REDIS_URL``, default database 9 of
127.0.0.1:6379) and delete only the keys under their own prefix afterwards:
nothing they did not create is ever flushed.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from core.config import Config, load_config
from core.redis_client import connect
from core.settings import redis_settings
from tests.keys import AllKeys
from tests.registry_backends import Backend, FakeClock, MemoryBackend, RedisBackend
from ussd_server.context import AppContext, build_context

TEST_REDIS_URL = os.environ.get("USSD_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def make_test_config(
    prefix: str, *, environ: dict[str, str] | None = None, **overrides: object
) -> Config:
    """config.toml for this test's key prefix, with test secrets; ``environ`` adds to them."""
    env = {
        "USSD_TICKETS_SIGNING_KEY": "test-signing-key-" + prefix,
        "USSD_OPERATOR_API_TOKEN": "test-operator-token",
        "USSD_SMPP_PASSWORD": "devpass",  # the development SMSC's ([smsc_sim] password)
        "USSD_WEB_CSRF_SECRET": "test-csrf-secret-" + prefix,
        **(environ or {}),
    }
    base: dict[str, object] = {
        "redis.url": TEST_REDIS_URL,
        "redis.key_prefix": prefix,
        # Gateway authentication has its own tests (tests/test_gateway_auth.py).
        "ussd.allow_unauthenticated": True,
    }
    base.update(overrides)
    return load_config(environ=env, overrides=base)


@pytest.fixture
def key_prefix() -> str:
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def config(key_prefix: str) -> Config:
    return make_test_config(key_prefix)


@pytest.fixture
def keys(key_prefix: str) -> AllKeys:
    return AllKeys(prefix=key_prefix)


async def delete_keys(client: aioredis.Redis, key_prefix: str) -> None:
    """Delete this test's keys (and only those)."""
    async for key in client.scan_iter(match=f"{key_prefix}:*", count=1000):
        await client.delete(key)


@pytest.fixture
async def redis(config: Config, key_prefix: str) -> AsyncIterator[aioredis.Redis]:
    client = connect(redis_settings(config))
    try:
        yield client
    finally:
        await delete_keys(client, key_prefix)
        await client.aclose()


@pytest.fixture(params=["redis", "memory"])
async def backend(
    request: pytest.FixtureRequest, config: Config, key_prefix: str
) -> AsyncIterator[Backend]:
    """An empty Registry on the Redis stores, then on the memory stores (contract tests)."""
    clock = FakeClock()
    if request.param == "memory":
        yield MemoryBackend(config, clock)
        return
    client = connect(redis_settings(config))
    redis_backend = RedisBackend(config, clock, client)
    try:
        yield redis_backend
    finally:
        await redis_backend.aclose()
        await delete_keys(client, key_prefix)
        await client.aclose()


@pytest.fixture
def random_token() -> str:
    return secrets.token_hex(8)


@pytest.fixture
async def context(config: Config) -> AsyncIterator[AppContext]:
    """The whole service for this test's prefix, as `serve` builds it for one process."""
    ctx = build_context(config)
    try:
        yield ctx
    finally:
        await ctx.aclose()
