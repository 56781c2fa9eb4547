"""Registry import against a real Redis: bad rows reported, good rows kept, idempotent."""

from __future__ import annotations

import io

import pytest
import redis.asyncio as aioredis

from core.config import Config
from core.redis_bulk import BulkConnection
from registration import importer, redis_import
from registration.service import Registry
from tests.keys import AllKeys
from tests.test_registration_support import (
    STANDARD_FACILITIES,
    FakeClock,
    facilities_csv,
    nik,
    workers_csv,
)


@pytest.fixture(name="write_path", params=["bulk", "redis-py"])
def write_path_fixture(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run import tests through both writers: the raw RESP one and plain redis-py."""
    if request.param == "redis-py":

        async def no_bulk(redis: aioredis.Redis) -> None:
            return None

        monkeypatch.setattr(BulkConnection, "open", no_bulk)
    return str(request.param)


async def test_bad_rows_are_reported_and_good_rows_kept(
    redis: aioredis.Redis, keys: AllKeys, config: Config, write_path: str
) -> None:
    facilities = await redis_import.import_facilities(
        redis,
        keys,
        facilities_csv(
            *STANDARD_FACILITIES,
            "BAD ID,Puskesmas X,Kota Bandung,Jl. X,10",  # line 6
            "PKM-09,,Kota Bandung,Jl. X,10",  # line 7
            "PKM-10,Puskesmas Y,Kota Bandung,Jl. Y,lots",  # line 8
            "PKM-01,Puskesmas Coblong again,Kota Bandung,Jl. Z,5",  # line 9
        ),
    )
    assert facilities.rows_ok == 4
    assert [line for line, _ in facilities.errors] == [6, 7, 8, 9]
    assert "duplicate facility_id PKM-01 (first on line 2)" in facilities.errors[3][1]

    good = nik(1)
    workers = await redis_import.import_health_workers(
        redis,
        keys,
        workers_csv(
            f"{good},Siti Nurhaliza,0812-1111-2222,Bidan,PKM-01",  # line 2: ok
            "1234,Budi,081211112223,Perawat,PKM-01",  # line 3: short NIK
            f"{nik(2)},Budi,021555666,Perawat,PKM-01",  # line 4: landline
            f"{nik(3)},Budi,081211112224,Perawat,PKM-99",  # line 5: unknown facility
            f"{nik(4)},,081211112225,Perawat,PKM-01",  # line 6: no name
            f"{good},Siti Again,081211112226,Bidan,PKM-01",  # line 7: duplicate NIK
            "only,three,columns",  # line 8
            "",  # line 9: blank, ignored
            f"{nik(5)},Ani Léstari Ñ,+62 813 3333 4444,Dokter,PKM-02",  # line 10: ok (UTF-8)
            f"{nik(6)},Budi,081211112227,Perawat,{nik(7)} 081211112228 Budi",  # 11: a person
            f"{nik(8)},Budi,081211112229,Perawat,{nik(7)}",  # line 12: a NIK as the id
        ),
    )
    assert (workers.rows_ok, workers.rows_bad) == (2, 8)
    reasons = dict(workers.errors)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 11, 12]
    # A report is printed and kept: a facility_id cell holding someone's data is not echoed.
    assert reasons[11] == "facility_id must be 1-32 letters, digits, - or _"
    assert nik(7) not in reasons[12] and nik(7)[:4] in reasons[12]
    assert not any(x in str(workers.errors) for x in (nik(7), "081211112228", "Budi"))
    assert "16 digits" in reasons[3]
    assert "mobile" in reasons[4]
    assert "unknown facility_id 'PKM-99'" in reasons[5]
    assert "full_name" in reasons[6]
    assert "duplicate NIK (first on line 2)" in reasons[7]
    assert "columns" in reasons[8]

    registry = Registry.from_config(config, redis, clock=FakeClock())
    worker = await registry.worker(good)
    assert worker is not None
    assert (worker.full_name, worker.phone, worker.facility_id) == (
        "Siti Nurhaliza",
        "6281211112222",
        "PKM-01",
    )
    found = (await registry.verify("6281333334444", nik(5)[-6:])).worker
    assert found is not None and found.full_name == "Ani Léstari Ñ"
    assert found.profession == "Dokter"  # the field after the multi-byte name is intact
    assert await registry.worker(nik(3)) is None


async def test_reimport_updates_without_duplicates(
    redis: aioredis.Redis, keys: AllKeys, config: Config, write_path: str
) -> None:
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    first = workers_csv(
        f"{nik(1)},Siti,081211112222,Bidan,PKM-01",
        f"{nik(2)},Budi,081211113333,Perawat,PKM-01",
    )
    assert (await redis_import.import_health_workers(redis, keys, first)).rows_ok == 2
    # Budi changed phone and facility; Siti is unchanged; a newcomer arrives.
    second = workers_csv(
        f"{nik(1)},Siti,081211112222,Bidan,PKM-01",
        f"{nik(2)},Budi Santoso,081299998888,Perawat,PKM-02",
        f"{nik(3)},Ani,081277776666,Dokter,PKM-02",
    )
    report = await redis_import.import_health_workers(redis, keys, second)
    assert (report.rows_ok, report.rows_bad) == (3, 0)

    assert await redis.scard(keys.all_workers()) == 3
    assert await redis.smembers(keys.phone_index("6281211113333")) == set()  # old phone left
    assert await redis.smembers(keys.phone_index("6281299998888")) == {nik(2)}
    assert await redis.smembers(keys.workers_by_facility("PKM-01")) == {nik(1)}
    assert await redis.smembers(keys.workers_by_facility("PKM-02")) == {nik(2), nik(3)}
    registry = Registry.from_config(config, redis, clock=FakeClock())
    old = await registry.verify("081211113333", nik(2)[-6:])
    assert old.outcome == "not_listed"
    new = await registry.verify("081299998888", nik(2)[-6:])
    assert new.worker is not None and new.worker.full_name == "Budi Santoso"


async def test_facility_reimport_moves_regency_and_refreshes_choices(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    await redis_import.import_health_workers(
        redis, keys, workers_csv(f"{nik(1)},Siti,081211112222,Bidan,PKM-SBY")
    )
    registry = Registry.from_config(config, redis, clock=FakeClock())
    assert [f.facility_id for f in await registry.facility_choices(nik(1))] == ["PKM-SBY"]
    # PKM-02 moves to Surabaya: the cached directory notices the new import at once.
    await redis_import.import_facilities(
        redis, keys, facilities_csv("PKM-02,Puskesmas Antapani,Kota Surabaya,Jl. A,41")
    )
    choices = await registry.facility_choices(nik(1))
    assert [f.facility_id for f in choices] == ["PKM-SBY", "PKM-02"]
    assert await redis.zrange(keys.regency_facilities("Kota Bandung"), 0, -1) == [
        "PKM-01",
        "RSUD-01",
    ]


async def test_header_problems_and_text_sources(redis: aioredis.Redis, keys: AllKeys) -> None:
    empty = await redis_import.import_facilities(redis, keys, io.StringIO(""))
    assert empty.rows_ok == 0 and "empty" in empty.errors[0][1]
    wrong = await redis_import.import_facilities(redis, keys, io.StringIO("id,name\nX,Y\n"))
    assert wrong.errors[0][0] == 1 and "daily_capacity" in wrong.errors[0][1]
    # Columns in another order, a UTF-8 BOM, CRLF line ends, a list of lines: all fine.
    lines = [
        "\ufeffname,facility_id,daily_capacity,regency,address\r\n",
        'Puskesmas Ujung,PKM-77,30,Kota Makassar,"Jl. Ujung, No. 5"\r\n',
    ]
    report = await redis_import.import_facilities(redis, keys, lines)
    assert (report.rows_ok, report.rows_bad) == (1, 0)
    upload = "facility_id,name,regency,address,daily_capacity\nPKM-78,Puskesmas Ké,Kota A,,9\n"
    as_bytes = await redis_import.import_facilities(redis, keys, upload.encode("utf-8"))
    assert (as_bytes.rows_ok, as_bytes.rows_bad) == (1, 0)
    assert await redis.hget(keys.facility("PKM-78"), "name") == "Puskesmas Ké"
    assert await redis.hget(keys.facility("PKM-77"), "address") == "Jl. Ujung, No. 5"


async def test_progress_is_reported_for_files(
    redis: aioredis.Redis, keys: AllKeys, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    monkeypatch.setattr(importer, "BATCH_ROWS", 100)
    folder = Path(str(tmp_path))
    (folder / "f.csv").write_text("".join(facilities_csv(*STANDARD_FACILITIES)), "utf-8")
    rows = [f"{nik(i)},Pekerja {i},0812{i:08d},Perawat,PKM-01" for i in range(350)]
    (folder / "w.csv").write_text("".join(workers_csv(*rows)), "utf-8")
    await redis_import.import_facilities(redis, keys, folder / "f.csv")
    calls: list[tuple[object, ...]] = []
    report = await redis_import.import_health_workers(
        redis, keys, folder / "w.csv", lambda *a: calls.append(a)
    )
    assert report.rows_ok == 350
    assert [c[0] for c in calls] == [100, 200, 300, 350]
    assert calls[-1][1] == calls[-1][2] == (folder / "w.csv").stat().st_size


async def test_extra_columns_are_ignored_but_a_shifted_row_is_refused(
    redis: aioredis.Redis, keys: AllKeys, config: Config, write_path: str
) -> None:
    """An operator's added "notes" column is fine; an unquoted comma must not shift fields."""
    text = (
        "facility_id,name,regency,address,daily_capacity,notes\n"
        "PKM-01,Puskesmas Coblong,Kota Bandung,Jl. Juanda 1,100,buka Senin-Sabtu\n"
        "PKM-02,Puskesmas Antapani,Kota Bandung,Jl. Antapani, No. 2,41,\n"  # line 3
    )
    facilities = await redis_import.import_facilities(redis, keys, io.StringIO(text))
    assert facilities.rows_ok == 1
    assert facilities.errors == [(3, "expected 6 columns, got 7")]
    workers = await redis_import.import_health_workers(
        redis,
        keys,
        io.StringIO(
            "profession,nik,facility_id,phone,full_name,unit\n"
            f"Bidan,{nik(1)},PKM-01,081211112222,Siti Nurhaliza,KIA\n"
        ),
    )
    assert (workers.rows_ok, workers.rows_bad) == (1, 0)
    registry = Registry.from_config(config, redis, clock=FakeClock())
    try:
        worker = await registry.worker(nik(1))
    finally:
        await registry.aclose()
    assert worker is not None and worker.facility_id == "PKM-01" and worker.profession == "Bidan"
