"""Helpers for the registration tests (no tests here): NIKs, phones, CSV builders, loading."""

from __future__ import annotations

import io

import redis.asyncio as aioredis

from core.config import Config
from registration import redis_import
from registration.service import Registry
from tests.keys import AllKeys
from tests.registry_backends import FakeClock

FAC_HEADER = "facility_id,name,regency,address,daily_capacity\n"
WORKER_HEADER = "nik,full_name,phone,profession,facility_id\n"


def nik(serial: int, region: str = "327301", female: bool = False, birth: str = "1503") -> str:
    """A structurally valid NIK: region (province+regency+district), DDMM(+40), YY, serial."""
    day = int(birth[:2]) + (40 if female else 0)
    return f"{region}{day:02d}{birth[2:]}85{serial:04d}"


def phone(n: int) -> str:
    return f"62812{n:08d}"


def facilities_csv(*rows: str) -> io.StringIO:
    return io.StringIO(FAC_HEADER + "".join(r + "\n" for r in rows))


def workers_csv(*rows: str) -> io.StringIO:
    return io.StringIO(WORKER_HEADER + "".join(r + "\n" for r in rows))


STANDARD_FACILITIES = (
    "PKM-01,Puskesmas Coblong,Kota Bandung,Jl. Ir. H. Juanda 1,100",
    "PKM-02,Puskesmas Antapani,Kota Bandung,Jl. Antapani 2,41",
    "RSUD-01,RSUD Kota Bandung,Kota Bandung,Jl. Rumah Sakit 22,200",
    "PKM-SBY,Puskesmas Gubeng,Kota Surabaya,Jl. Gubeng 3,60",
)


def worker_rows(workers: int, facility: str = "PKM-01") -> list[str]:
    """``workers`` health workers nik(i)/phone(i) at ``facility``."""
    return [f"{nik(i)},Pekerja {i},0{phone(i)[2:]},Perawat,{facility}" for i in range(workers)]


async def load(
    registry: Registry, workers: int = 10, facility: str = "PKM-01", *more_facilities: str
) -> Registry:
    """Import the standard facilities (plus ``more_facilities``) and ``workers`` workers
    through the Registry itself: whatever its stores are."""
    await registry.import_facilities(facilities_csv(*STANDARD_FACILITIES, *more_facilities))
    report = await registry.import_health_workers(workers_csv(*worker_rows(workers, facility)))
    assert report.rows_bad == 0, report.errors
    return registry


async def registry_with(
    config: Config,
    redis: aioredis.Redis,
    keys: AllKeys,
    workers: int = 10,
    clock: FakeClock | None = None,
    facility: str = "PKM-01",
) -> Registry:
    """Standard facilities plus ``workers`` health workers nik(i)/phone(i) at ``facility``."""
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    rows = worker_rows(workers, facility)
    report = await redis_import.import_health_workers(redis, keys, workers_csv(*rows))
    assert report.rows_bad == 0, report.errors
    return Registry.from_config(config, redis, clock=clock or FakeClock())


async def screened(registry: Registry, *niks: str) -> None:
    answers = {g.group_id: False for g in registry.screening_groups()}
    for n in niks:
        await registry.record_screening(n, answers)
