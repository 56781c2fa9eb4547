"""Verification of (phone, last 6 NIK digits): households, wrong digits, lockout."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from core.config import Config
from registration import importer
from registration.models import VerifyOutcome
from registration.service import Registry
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_registration_support import (
    STANDARD_FACILITIES,
    FakeClock,
    facilities_csv,
    nik,
    registry_with,
    workers_csv,
)


async def test_three_wrong_attempts_lock_the_phone(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    registry = await registry_with(config, redis, keys, workers=1)
    phone, right = "6281200000000", nik(0)[-6:]
    first = await registry.verify(phone, "000000")
    assert (first.outcome, first.attempts_left) == (VerifyOutcome.WRONG_DIGITS, 2)
    second = await registry.verify(phone, "111111")
    assert (second.outcome, second.attempts_left) == (VerifyOutcome.WRONG_DIGITS, 1)
    third = await registry.verify(phone, "222222")
    assert third.outcome is VerifyOutcome.LOCKED
    assert 3590 <= third.locked_seconds <= 3600
    # Locked: even the right digits are refused, with the time left.
    locked = await registry.verify(phone, right)
    assert locked.outcome is VerifyOutcome.LOCKED and locked.worker is None
    assert 0 < locked.locked_seconds <= 3600


async def test_success_resets_the_counter_and_typos_do_not_count(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    registry = await registry_with(config, redis, keys, workers=1)
    phone, right = "081200000000", nik(0)[-6:]
    assert (await registry.verify(phone, "000000")).attempts_left == 2
    assert (await registry.verify(phone, "111111")).attempts_left == 1
    ok = await registry.verify(phone, right)
    assert ok.outcome is VerifyOutcome.OK and ok.worker and ok.worker.nik == nik(0)
    assert (await registry.verify(phone, "000000")).attempts_left == 2
    # Not six digits: clearly a typo, answered as wrong but not counted.
    typo = await registry.verify(phone, "12a45")
    assert (typo.outcome, typo.attempts_left) == (VerifyOutcome.WRONG_DIGITS, 2)


async def test_household_sharing_one_phone(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    await importer.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    mother, father = nik(7, female=True), nik(8)
    await importer.import_health_workers(
        redis,
        keys,
        workers_csv(
            f"{mother},Siti Aminah,081233334444,Bidan,PKM-01",
            f"{father},Agus Salim,081233334444,Dokter,PKM-02",
        ),
    )
    registry = Registry.from_config(config, redis, clock=FakeClock())
    for who in (mother, father):
        result = await registry.verify("6281233334444", who[-6:])
        assert result.outcome is VerifyOutcome.OK and result.worker
        assert result.worker.nik == who
    statuses = await registry.status_by_phone("+62 812-3333-4444")
    assert sorted(s.worker.nik for s in statuses) == sorted([mother, father])


async def test_unlisted_phone_is_not_counted(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    registry = await registry_with(config, redis, keys, workers=1)
    for _ in range(5):
        result = await registry.verify("6285799990000", "123456")
        assert result.outcome is VerifyOutcome.NOT_LISTED
    assert (await registry.verify("not a phone", "123456")).outcome is VerifyOutcome.NOT_LISTED


async def test_lock_expires(redis: aioredis.Redis, keys: AllKeys, key_prefix: str) -> None:
    config = make_test_config(key_prefix, **{"registration.lockout_seconds": 1})
    registry = await registry_with(config, redis, keys, workers=1)
    for digits in ("000000", "111111", "222222"):
        await registry.verify("6281200000000", digits)
    assert (await registry.verify("6281200000000", nik(0)[-6:])).outcome is VerifyOutcome.LOCKED
    await asyncio.sleep(1.1)
    assert (await registry.verify("6281200000000", nik(0)[-6:])).outcome is VerifyOutcome.OK
