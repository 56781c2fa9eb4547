"""Health-worker imports at the same time (real Redis): one runs after the other, so the
phone index ends up holding exactly the worker's current phone."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from core.config import Config
from registration import redis_import
from registration.models import VerifyOutcome
from registration.service import Registry
from tests.keys import AllKeys
from tests.test_registration_import import write_path_fixture  # noqa: F401  (fixture)
from tests.test_registration_support import (
    STANDARD_FACILITIES,
    FakeClock,
    facilities_csv,
    nik,
    workers_csv,
)

WHO = nik(77)


def _upload(phone: str, pad: int = 0) -> redis_import.importer.Source:
    rows = [f"{WHO},Race Worker,{phone},Perawat,PKM-01"]
    rows += [f"{nik(1000 + i)},Pad {i},0813{i:08d},Perawat,PKM-02" for i in range(pad)]
    return workers_csv(*rows)


async def test_concurrent_uploads_of_one_worker_leave_only_the_last_phone(
    redis: aioredis.Redis, keys: AllKeys, config: Config, write_path: str
) -> None:
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    registry = Registry.from_config(config, redis, clock=FakeClock())
    try:
        for round_ in range(20):
            phones = [f"0812{round_:02d}00000{n}" for n in (1, 2, 3)]
            await redis_import.import_health_workers(redis, keys, _upload(phones[0]))
            await asyncio.gather(
                redis_import.import_health_workers(redis, keys, _upload(phones[1], pad=round_)),
                redis_import.import_health_workers(redis, keys, _upload(phones[2])),
            )
            current = await redis.hget(keys.worker(WHO), "phone")
            assert current in ("62" + phones[1][1:], "62" + phones[2][1:])
            finds = [p for p in phones if await registry.status_by_phone(p)]
            assert finds == ["0" + current[2:]], f"round {round_}: found under {finds}"
            for stale in phones:
                if stale != finds[0]:
                    verdict = await registry.verify(stale, WHO[-6:])
                    assert verdict.outcome is VerifyOutcome.NOT_LISTED, (round_, stale)
            assert (await registry.verify(finds[0], WHO[-6:])).outcome is VerifyOutcome.OK
    finally:
        await registry.aclose()
    assert not await redis.exists(keys.worker_import_lock())  # released after each


async def test_an_upload_waits_while_another_holds_the_import(
    redis: aioredis.Redis, keys: AllKeys
) -> None:
    """A second import (another process's, here a held key) waits instead of interleaving."""
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    await redis.set(keys.worker_import_lock(), "another-process", px=20_000)
    upload = asyncio.create_task(
        redis_import.import_health_workers(redis, keys, _upload("081211110001"))
    )
    for _ in range(20):  # give it every chance to write; it must not
        await asyncio.sleep(0.01)
        assert not await redis.exists(keys.worker(WHO))
    assert not upload.done()
    await redis.delete(keys.worker_import_lock())
    report = await asyncio.wait_for(upload, 10)
    assert report.rows_ok == 1 and await redis.hget(keys.worker(WHO), "phone") == "6281211110001"


async def test_an_import_that_lost_its_lock_stops_with_an_error(
    redis: aioredis.Redis, keys: AllKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its lease ran out and another import took the lock: writing on would interleave."""
    monkeypatch.setattr(redis_import, "RENEW_SECONDS", 0.005)
    monkeypatch.setattr(redis_import.importer, "BATCH_ROWS", 10)
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    upload = asyncio.create_task(
        redis_import.import_health_workers(redis, keys, _upload("081211110001", pad=5000))
    )
    while not await redis.exists(keys.worker_import_lock()):
        await asyncio.sleep(0.001)
    await redis.set(keys.worker_import_lock(), "another-process", px=20_000)
    with pytest.raises(ResponseError, match="lost its lock"):
        await asyncio.wait_for(upload, 10)
    assert await redis.get(keys.worker_import_lock()) == "another-process"  # not released


async def test_concurrent_facility_uploads_leave_a_facility_in_one_regency(
    redis: aioredis.Redis, keys: AllKeys
) -> None:
    """A facility moved by two uploads at once stayed listed under both new regencies (each
    upload read the old regency, then wrote its own): its sites were offered in both."""
    regencies = ["Kota Bandung", "Kota Cimahi", "Kota Bogor"]
    for round_ in range(20):
        row = "PKM-77,Puskesmas Pindah,{},Jl. Satu {},50"
        first = facilities_csv(row.format(regencies[0], round_))
        await redis_import.import_facilities(redis, keys, first)
        await asyncio.gather(
            *(
                redis_import.import_facilities(redis, keys, facilities_csv(row.format(r, round_)))
                for r in regencies[1:]
            )
        )
        current = await redis.hget(keys.facility("PKM-77"), "regency")
        listed = [
            r
            for r in regencies
            if await redis.zscore(keys.regency_facilities(r), "PKM-77") is not None
        ]
        assert listed == [current], f"round {round_}: listed under {listed}, record says {current}"
