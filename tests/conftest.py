"""Shared fixtures: a real Redis, isolated per test by a unique key prefix.

Tests use the machine's Redis (``USSD_TEST_REDIS_URL``, default database 9 of
127.0.0.1:6379) and delete only the keys under their own prefix afterwards:
nothing they did not create is ever flushed.

The modules in ``CLUSTER_MODULES`` run twice: once on that Redis and once (marked
``cluster``) on a real 3-master Redis Cluster the suite starts for itself
(:class:`devtools.local_cluster.LocalCluster`, once per session, stopped at the end).
Every script call of every test checks that its keys share one Cluster slot
(``Call.check_slots``), on a single Redis too.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

from core.config import Config, load_config
from core.redis_client import connect
from core.redis_wire import Call
from core.settings import redis_settings
from devtools.local_cluster import LocalCluster
from tests.keys import AllKeys
from tests.registry_backends import Backend, FakeClock, MemoryBackend, RedisBackend
from ussd_server.context import AppContext, build_context

TEST_REDIS_URL = os.environ.get("USSD_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
Call.check_slots = True  # every script call of the suite proves its keys share a slot

# Journeys, booking races, blasts, the outbox, stats, repair, check-in: also on a cluster.
CLUSTER_MODULES = frozenset(
    {
        "tests.test_ussd_journey",
        "tests.test_ussd_journey_records",
        "tests.test_sms_journey",
        "tests.test_registration_import",
        "tests.test_registration_booking",
        "tests.test_registration_restart",
        "tests.test_smpp_blast",
        "tests.test_smpp_workers",
        "tests.test_sms_outbox",
        "tests.test_sms_long_parts",
        "tests.test_operator_api",
        "tests.test_ticket_probes",
        "tests.test_console_helpdesk",
        "tests.test_whatsapp_journey",
        "tests.test_web_registration",
        "tests.test_dialogue_flow",
    }
)
_target = {"url": TEST_REDIS_URL}


def test_redis_url() -> str:
    """The Redis this test runs on: the shared one, or the session's cluster."""
    return _target["url"]


test_redis_url.__test__ = False  # type: ignore[attr-defined]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.module.__name__ in CLUSTER_MODULES:
        cluster = pytest.param("cluster", marks=pytest.mark.cluster)
        metafunc.parametrize("redis_target", ["single", cluster], indirect=True)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A 3-master Redis Cluster of this session's own (killed and deleted at the end)."""
    cluster = LocalCluster(masters=3).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(autouse=True)
def redis_target(request: pytest.FixtureRequest) -> Iterator[str]:
    """Points make_test_config at the cluster for the ``cluster`` variant of a test."""
    target = getattr(request, "param", "single")
    if target != "cluster":
        yield target
        return
    _target["url"] = request.getfixturevalue("redis_cluster").url
    try:
        yield target
    finally:
        _target["url"] = TEST_REDIS_URL


def make_test_config(
    prefix: str, *, environ: dict[str, str] | None = None, **overrides: object
) -> Config:
    """config.toml for this test's key prefix, with test secrets; ``environ`` adds to them."""
    env = {
        "USSD_TICKETS_SIGNING_KEY": "test-signing-key-" + prefix,
        "USSD_OPERATOR_API_TOKEN": "test-operator-token",
        "USSD_CONSOLE_SESSION_KEY": "test-console-session-key-" + prefix,
        "USSD_SMPP_PASSWORD": "devpass",  # the development SMSC's ([smsc_sim] password)
        "USSD_WEB_CSRF_SECRET": "test-csrf-secret-" + prefix,
        **(environ or {}),
    }
    base: dict[str, object] = {
        "redis.url": test_redis_url(),
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
    # On a cluster, redis-py's scan_iter walks every master. Twice: counters a stopped
    # server sent without waiting (activity, best effort) can land just after the first.
    for attempt in range(2):
        async for key in client.scan_iter(match=f"{key_prefix}:*", count=1000):
            await client.delete(key)
        if attempt == 0:
            await asyncio.sleep(0.05)


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
async def context(config: Config, key_prefix: str) -> AsyncIterator[AppContext]:
    """The whole service for this test's prefix, as `serve` builds it for one process;
    its keys are deleted afterwards (also when the test used no `redis` fixture)."""
    ctx = build_context(config)
    try:
        yield ctx
    finally:
        await delete_keys(ctx.redis, key_prefix)
        await ctx.aclose()
