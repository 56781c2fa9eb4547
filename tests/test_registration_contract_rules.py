"""Who may be screened and booked when: the age band, running deferrals, the next phase.

Contract tests: each runs against the Redis stores and the memory stores. Today is
13 January 2021 (WIB) on the backends' clock; the window runs 14-27 January.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from registration.models import BookingOutcome, CheckInOutcome, ScreeningOutcome, ScreeningResult
from registration.service import Registry
from tests.conftest import make_test_config
from tests.registry_backends import Backend
from tests.test_registration_support import load, screened, workers_csv

SCREENING_FILE = Path(__file__).resolve().parent.parent / "menus" / "screening.toml"
DAY_SECONDS = 24 * 3600
AGED_60 = "3273010101610001"  # born 1 January 1961: 60 on 13 January 2021
AGED_62 = "3273011503580002"  # born 15 March 1958
TURNS_60 = "3273012001610003"  # born 20 January 1961: 59 today, 60 on the 20th
AGED_17 = "3273015506030004"  # a woman born 15 June 2003 (day + 40)


async def listed(registry: Registry, *niks: str) -> Registry:
    await load(registry, workers=1)
    rows = [f"{n},Nakes {i},0813{i:08d},Dokter,PKM-01" for i, n in enumerate(niks)]
    report = await registry.import_health_workers(workers_csv(*rows))
    assert report.rows_bad == 0, report.errors
    return registry


async def test_a_health_worker_over_59_gets_no_ticket(backend: Backend) -> None:
    """A health worker aged 62 used to get a ticket: January 2021 covered 18-59 only."""
    registry = await listed(backend.registry, AGED_62, AGED_60, AGED_17)
    for who, band in (
        (AGED_62, "usia_60_plus"),
        (AGED_60, "usia_60_plus"),
        (AGED_17, "di_bawah_18"),
    ):
        status = await registry.status_by_nik(who)  # known before any question
        assert status and status.hold == ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, band)
        held = await registry.screening_hold(who)  # recorded, as a screening
        assert held is not None and (held.outcome, held.reason_id) == ("not_eligible", band)
        # Whatever the answers, no ticket.
        answers = {g.group_id: False for g in registry.screening_groups()}
        result = await registry.record_screening(who, answers)
        assert (result.outcome, result.reason_id) == ("not_eligible", band)
        booking = await registry.book(who, "PKM-01", date(2021, 1, 14), "pagi")
        assert booking.outcome is BookingOutcome.NOT_ELIGIBLE and booking.ticket is None
        assert await registry.available_slots("PKM-01", nik=who) == []
        status = await registry.status_by_nik(who)
        assert status and status.screening == held and status.ticket is None
    why = registry.screening_reason("usia_60_plus")
    assert why and "60" in why.reason["id"] and "60" in why.reason["en"] and why.advice["en"]
    totals = (await registry.stats())["totals"]  # each counted once, however often asked
    assert (totals["screened"], totals["not_eligible"], totals["eligible"]) == (3, 3, 0)


async def test_the_age_on_the_vaccination_day_counts(backend: Backend) -> None:
    registry = await listed(backend.registry, TURNS_60)
    status = await registry.status_by_nik(TURNS_60)
    assert status and status.hold is None  # 59 today: screened as usual
    await screened(registry, TURNS_60)
    days = {s.day for s in await registry.available_slots("PKM-01", nik=TURNS_60)}
    assert max(days) == date(2021, 1, 19) and date(2021, 1, 14) in days  # 60 on the 20th
    late = await registry.book(TURNS_60, "PKM-01", date(2021, 1, 21), "pagi")
    assert late.outcome is BookingOutcome.NOT_ELIGIBLE
    ok = await registry.book(TURNS_60, "PKM-01", date(2021, 1, 19), "pagi")
    assert ok.outcome is BookingOutcome.BOOKED


async def test_a_deferral_holds_until_its_retry_date(backend: Backend) -> None:
    registry = await listed(backend.registry)
    who = "3273011503850000"  # nik(0), 35
    groups = {g.group_id: False for g in registry.screening_groups()}
    first = await registry.record_screening(who, {"gejala": True})
    assert (first.outcome, first.reason_id, first.retry_on) == (
        "deferred",
        "gejala",
        date(2021, 1, 27),
    )
    for days_later in (0, 13):  # the 13th, the 26th: no screening before the retry date
        backend.clock.advance(days_later * DAY_SECONDS)
        assert await registry.record_screening(who, groups) == first
        assert await registry.screening_hold(who) == first
        status = await registry.status_by_nik(who)
        assert status and status.hold == first and status.screening == first
    backend.clock.advance(DAY_SECONDS)  # the 27th
    assert await registry.screening_hold(who) is None
    again = await registry.record_screening(who, groups)
    assert again.outcome is ScreeningOutcome.ELIGIBLE
    totals = (await registry.stats())["totals"]
    assert (totals["screened"], totals["deferred"], totals["eligible"]) == (1, 0, 1)


async def test_a_deferral_ends_on_its_retry_date(backend: Backend) -> None:
    registry = await listed(backend.registry)
    who = "3273011503850000"
    groups = {g.group_id: False for g in registry.screening_groups()}
    await registry.record_screening(who, {**groups, "terkendali": True})  # 30 days
    backend.clock.advance(29 * DAY_SECONDS)
    assert (await registry.record_screening(who, groups)).outcome is ScreeningOutcome.DEFERRED
    backend.clock.advance(DAY_SECONDS)  # 12 February: the retry date
    assert (await registry.record_screening(who, groups)).outcome is ScreeningOutcome.ELIGIBLE


async def test_opening_the_next_phase_is_a_change_of_data(
    backend: Backend, key_prefix: str, tmp_path: Path
) -> None:
    """The ministry opens 60+ (dose 2 after 28 days) by editing menus/screening.toml."""
    text = SCREENING_FILE.read_text(encoding="utf-8")
    opened = text.replace('outcome = "not_eligible"  # the next phase', 'outcome = "eligible"  #')
    assert opened != text
    (tmp_path / "screening.toml").write_text(opened, encoding="utf-8")
    config = make_test_config(
        key_prefix, **{"registration.screening_file": str(tmp_path / "screening.toml")}
    )
    await listed(backend.registry, AGED_62)
    registry = backend.reconfigured(config)
    assert (await registry.status_by_nik(AGED_62)).hold is None  # type: ignore[union-attr]
    await screened(registry, AGED_62)
    ticket = (await registry.book(AGED_62, "PKM-01", date(2021, 1, 14), "pagi")).ticket
    assert ticket is not None and registry.planned_dose2(ticket) == date(2021, 2, 11)
    backend.clock.advance(DAY_SECONDS)
    done = await registry.check_in(ticket.payload, facility_id="PKM-01")
    assert done.outcome is CheckInOutcome.VALID and done.dose2_due == date(2021, 2, 11)  # +28


async def test_a_screening_that_was_not_eligible_stays_in_the_history(backend: Backend) -> None:
    """Re-screened eligible on another channel a minute later, a not_eligible outcome was
    deleted without a trace: the help desk and the API saw only "eligible"."""
    registry = await listed(backend.registry, AGED_62)
    who = "3273011503850000"  # nik(0), 35
    groups = {g.group_id: False for g in registry.screening_groups()}
    refused = await registry.record_screening(who, {**groups, "covid_hamil": True})
    assert refused == ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, "covid_hamil")
    backend.clock.advance(60)
    assert (await registry.record_screening(who, groups)).outcome == "eligible"  # the rule
    await registry.record_screening(who, {**groups, "gejala": True})  # deferred: kept too
    status = await registry.status_by_nik(who)
    assert status and status.screening and status.screening.outcome == "deferred"
    assert [line.split(" ", 1)[1] for line in status.history] == [
        "screened not_eligible covid_hamil dose 1",
        "screened deferred gejala until 20210127 dose 1",
    ]
    for _ in range(3):  # the same outcome again (an age, at every dial): one line
        await registry.screening_hold(AGED_62)
    status = await registry.status_by_nik(AGED_62)
    assert status and [line.split(" ", 1)[1] for line in status.history] == [
        "screened not_eligible usia_60_plus dose 1"
    ]
