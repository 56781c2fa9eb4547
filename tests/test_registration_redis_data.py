"""Data written by an earlier version still reads (Redis only: the key layout)."""

from __future__ import annotations

import redis.asyncio as aioredis

from core.config import Config
from registration.models import VerifyOutcome
from tests.keys import AllKeys
from tests.test_registration_support import nik, registry_with


async def test_a_wrong_answer_counter_of_an_earlier_version_still_counts(
    config: Config, redis: aioredis.Redis, keys: AllKeys
) -> None:
    registry = await registry_with(config, redis, keys, workers=1)
    phone = "6281200000000"  # nik(0)'s
    # The earlier script kept a plain counter, renewed on each wrong answer.
    await redis.set(keys.nik_attempts(phone), "2", ex=3600)
    assert (await registry.verify(phone, "12345")).attempts_left == 1  # a typo reads it
    assert (await registry.verify(phone, nik(0)[-6:])).outcome is VerifyOutcome.OK
    assert (await registry.verify(phone, "000000")).outcome is VerifyOutcome.LOCKED
    assert 0 < await redis.ttl(keys.nik_lock(phone)) <= 3600
    assert await redis.exists(keys.nik_attempts(phone)) == 0
