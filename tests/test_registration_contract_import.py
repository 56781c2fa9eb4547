"""The registry import and what it changes: re-listing, moved facilities, blast recipients.

Contract tests: each runs against the Redis stores and the memory stores. The CSV
checks themselves (bad rows, headers, sources) are in test_registration_import.py.
"""

from __future__ import annotations

from registration.models import VerifyOutcome
from tests.registry_backends import Backend
from tests.test_registration_support import STANDARD_FACILITIES, facilities_csv, nik, workers_csv


async def test_reimport_moves_phones_and_facilities(backend: Backend) -> None:
    registry = backend.registry
    await registry.import_facilities(facilities_csv(*STANDARD_FACILITIES))
    first = workers_csv(
        f"{nik(1)},Siti,081211112222,Bidan,PKM-01",
        f"{nik(2)},Budi,081211113333,Perawat,PKM-01",
    )
    assert (await registry.import_health_workers(first)).rows_ok == 2
    # Budi changed phone and facility; Siti is unchanged; a newcomer arrives.
    second = workers_csv(
        f"{nik(1)},Siti,081211112222,Bidan,PKM-01",
        f"{nik(2)},Budi Santoso,081299998888,Perawat,PKM-SBY",
        f"{nik(3)},Ani,081277776666,Dokter,PKM-02",
    )
    report = await registry.import_health_workers(second)
    assert (report.rows_ok, report.rows_bad) == (3, 0)
    assert (await registry.verify("081211113333", nik(2)[-6:])).outcome == "not_listed"
    assert await registry.status_by_phone("081211113333") == []
    new = await registry.verify("081299998888", nik(2)[-6:])
    assert new.outcome is VerifyOutcome.OK and new.worker is not None
    assert new.worker.full_name == "Budi Santoso"
    assert [f.facility_id for f in await registry.facility_choices(nik(2))] == ["PKM-SBY"]
    assert (await registry.stats())["workers_listed"] == 3
    unknown = await registry.import_health_workers(workers_csv(f"{nik(4)},X,081200000044,Y,NOPE"))
    assert unknown.rows_ok == 0 and "unknown facility_id 'NOPE'" in unknown.errors[0][1]


async def test_facility_reimport_refreshes_choices_and_overview(backend: Backend) -> None:
    registry = backend.registry
    await registry.import_facilities(facilities_csv(*STANDARD_FACILITIES))
    await registry.import_health_workers(workers_csv(f"{nik(1)},Siti,081211112222,Bidan,PKM-SBY"))
    assert [f.facility_id for f in await registry.facility_choices(nik(1))] == ["PKM-SBY"]
    # PKM-02 moves to Surabaya: the cached facilities notice the new import at once.
    moved = facilities_csv("PKM-02,Puskesmas Antapani,Kota Surabaya,Jl. A,41")
    assert (await registry.import_facilities(moved)).rows_ok == 1
    choices = await registry.facility_choices(nik(1))
    assert [f.facility_id for f in choices] == ["PKM-SBY", "PKM-02"]
    assert [f.facility_id for f in await registry.facilities()] == [
        "PKM-01", "PKM-02", "PKM-SBY", "RSUD-01",
    ]  # fmt: skip
    facility = await registry.facility("PKM-02")
    assert facility is not None and facility.regency == "Kota Surabaya"
    assert await registry.facility("PKM-404") is None
    assert await registry.facility_choices("3273011503859999") == []
    rows = {row["facility_id"]: row for row in await registry.facility_overview()}
    assert (rows["PKM-02"]["regency"], rows["PKM-02"]["booked"]) == ("Kota Surabaya", 0)


async def test_blast_recipients_by_filter(backend: Backend) -> None:
    registry = backend.registry
    await registry.import_facilities(facilities_csv(*STANDARD_FACILITIES))
    await registry.import_health_workers(
        workers_csv(
            f"{nik(1)},Siti,081211112222,Bidan,PKM-01",
            f"{nik(2)},Budi,081211113333,Perawat,PKM-02",
            f"{nik(3)},Ani,081277776666,Bidan,PKM-SBY",
        )
    )
    await registry.record_screening(
        nik(1), {g.group_id: False for g in registry.screening_groups()}
    )
    slot = (await registry.available_slots("PKM-01"))[0]
    assert (await registry.book(nik(1), "PKM-01", slot.day, slot.session_id)).outcome == "booked"

    async def chosen(filters: dict[str, list[str]], only_unregistered: bool) -> list[str]:
        found = []
        async for batch in registry.recipients(filters, only_unregistered):
            found += [(r.nik, r.phone, r.full_name) for r in batch]
        return [who for who, _, _ in sorted(found)]

    assert await chosen({}, False) == [nik(1), nik(2), nik(3)]
    assert await chosen({"regency": [" kota bandung "]}, False) == [nik(1), nik(2)]
    assert await chosen({"profession": ["bidan"]}, True) == [nik(3)]
    assert await chosen({"facility_id": ["PKM-02", "PKM-SBY"]}, False) == [nik(2), nik(3)]
