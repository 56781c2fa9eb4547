"""Tickets and check-in: idempotent issue, signed QR, forgery, reuse, dose 2, statistics.

Contract tests: each runs against the Redis stores and the memory stores.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from registration.models import BookingOutcome, CheckInOutcome
from registration.service import Registry
from registration.tickets import TicketSigner
from tests.conftest import make_test_config
from tests.registry_backends import Backend
from tests.test_registration_support import load, nik, screened

DAY = date(2021, 1, 14)  # tomorrow on the backends' clock (13 January, 10:00 WIB)
DUE = date(2021, 1, 28)  # dose 2 of a dose 1 checked in on DAY (ages 18-59: 14 days)
DAY_SECONDS = 24 * 3600


async def booked(
    registry: Registry,
    who: str,
    facility: str = "PKM-01",
    session: str = "pagi",
    day: date = DAY,
):
    await screened(registry, who)
    result = await registry.book(who, facility, day, session)
    assert result.outcome is BookingOutcome.BOOKED and result.ticket
    return result.ticket


def test_ticket_codes_use_every_symbol_of_the_alphabet_evenly() -> None:
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols: 256 is no multiple of it
    signer = TicketSigner("key", alphabet, 8)
    codes = [signer.new_code() for _ in range(20_000)]
    assert all(len(code) == 8 and set(code) <= set(alphabet) for code in codes)
    assert len(set(codes)) == len(codes)
    counts = Counter("".join(codes))
    expected = 8 * 20_000 / len(alphabet)  # about 5,161 each; a byte % 31 bias would be +12 %
    assert all(abs(counts[symbol] - expected) < 0.06 * expected for symbol in alphabet), counts


async def test_ticket_is_idempotent_and_retrievable(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    ticket = await booked(registry, nik(0))
    again = await registry.book(nik(0), "PKM-01", DAY, "pagi")
    assert again.outcome is BookingOutcome.BOOKED and again.ticket == ticket
    assert await registry.ticket(ticket.code) == ticket
    assert await registry.ticket(ticket.code.lower()) == ticket
    assert await registry.ticket("NOSUCHXX") is None and await registry.ticket("") is None
    status = await registry.status_by_nik(nik(0))
    assert status and status.ticket == ticket
    assert len(ticket.code) == 8 and set(ticket.code) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    # The QR carries the appointment, never the NIK or the name.
    assert ticket.payload.startswith(f"VX1.{ticket.code}.PKM-01.20210114.pagi.1.")
    assert nik(0) not in ticket.payload and "Pekerja" not in ticket.payload
    png, svg = registry.ticket_png(ticket), registry.ticket_svg(ticket)
    assert png.startswith(b"\x89PNG") and b"<svg" in svg


async def test_code_collision_takes_another_code(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = await load(backend.registry, workers=2)
    codes = iter(["AAAAAAAA", "AAAAAAAA", "BBBBBBBB"])
    monkeypatch.setattr(TicketSigner, "new_code", lambda self: next(codes))
    first = await booked(registry, nik(0))
    second = await booked(registry, nik(1))
    assert (first.code, second.code) == ("AAAAAAAA", "BBBBBBBB")
    owner = await registry.ticket("AAAAAAAA")
    assert owner is not None and owner.nik == nik(0)


async def test_check_in_once_then_already_used_and_dose2_due(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    ticket = await booked(registry, nik(0))
    backend.clock.advance(DAY_SECONDS)  # the 14th: the ticket's day
    result = await registry.check_in(ticket.payload, facility_id="PKM-01")
    assert result.outcome is CheckInOutcome.VALID
    assert result.dose2_due == date(2021, 1, 28)  # checked in on the 14th + 14 days (age 35)
    assert result.ticket and result.ticket.state == "used"
    second = await registry.check_in(ticket.payload, facility_id="PKM-01")
    assert second.outcome is CheckInOutcome.ALREADY_USED
    again = await registry.check_in(ticket.code, facility_id="PKM-01")
    assert again.outcome is CheckInOutcome.ALREADY_USED
    status = await registry.status_by_nik(nik(0))
    assert status and status.dose2_due == date(2021, 1, 28)
    assert status.ticket and status.ticket.state == "used"
    # Dose 2 needs a fresh screening, then books as dose 2 with a new ticket, from the 28th.
    assert (await registry.book(nik(0), "PKM-01", DUE, "siang")).outcome == "not_eligible"
    dose2 = await booked(registry, nik(0), session="siang", day=DUE)
    assert dose2.dose == 2 and dose2.code != ticket.code
    backend.clock.advance(14 * DAY_SECONDS)
    done = await registry.check_in(dose2.payload, facility_id="PKM-01")
    assert done.outcome is CheckInOutcome.VALID and done.dose2_due is None
    stats = (await registry.stats())["totals"]
    assert (stats["checked_in"], stats["booked"]) == (2, 0)
    # Two doses done: a third booking is refused, the course is complete (whatever screening).
    await screened(registry, nik(0))
    third = await registry.book(nik(0), "PKM-01", date(2021, 1, 29), "pagi")
    assert third.outcome is BookingOutcome.COURSE_COMPLETE and third.ticket is None
    status = await registry.status_by_nik(nik(0))
    assert status is not None
    assert [line.split(" ")[1] for line in status.history] == [
        "booked",
        "checked",
        "booked",
        "checked",
    ]


async def test_dose2_days_before_the_due_date_are_neither_offered_nor_bookable(
    backend: Backend,
) -> None:
    """Dose 2 could be booked for the day after dose 1: the interval was not enforced."""
    registry = await load(backend.registry, workers=1)
    ticket = await booked(registry, nik(0))
    backend.clock.advance(DAY_SECONDS)
    assert (await registry.check_in(ticket.code, facility_id="PKM-01")).dose2_due == DUE
    await screened(registry, nik(0))
    offered = {s.day for s in await registry.available_slots("PKM-01", nik=nik(0))}
    assert offered == {DUE}  # the window runs 15-28 January: only the 28th is due
    assert min(s.day for s in await registry.available_slots("PKM-01")) == date(2021, 1, 15)
    early = await registry.book(nik(0), "PKM-01", date(2021, 1, 15), "pagi")  # the day after
    assert early.outcome is BookingOutcome.TOO_EARLY and early.ticket is None
    assert (await registry.book(nik(0), "PKM-01", DUE - timedelta(days=1), "pagi")).outcome == (
        "too_early"
    )
    on_time = await registry.book(nik(0), "PKM-01", DUE, "pagi")
    assert on_time.outcome is BookingOutcome.BOOKED and on_time.ticket
    assert on_time.ticket.dose == 2
    # Nor can a dose-2 booking be moved before the due date.
    moved = await registry.reschedule(nik(0), "PKM-02", date(2021, 1, 20), "pagi")
    assert moved.outcome is BookingOutcome.TOO_EARLY
    assert (await registry.status_by_nik(nik(0))).ticket == on_time.ticket  # type: ignore[union-attr]


async def test_a_ticket_checks_in_only_on_its_day_at_its_facility(
    backend: Backend, key_prefix: str
) -> None:
    """A ticket for tomorrow used to check in today as valid, at any facility."""
    registry = await load(backend.registry, workers=1)
    ticket = await booked(registry, nik(0))  # for the 14th at PKM-01; today is the 13th
    early = await registry.check_in(ticket.payload, facility_id="PKM-01")
    assert early.outcome is CheckInOutcome.WRONG_DAY and early.ticket == ticket
    backend.clock.advance(DAY_SECONDS)
    elsewhere = await registry.check_in(ticket.payload, facility_id="PKM-02")
    assert elsewhere.outcome is CheckInOutcome.WRONG_FACILITY
    assert (await registry.check_in(ticket.code, facility_id="RSUD-01")).outcome == (
        "wrong_facility"
    )
    backend.clock.advance(DAY_SECONDS)  # the 15th: a day late
    late = await registry.check_in(ticket.code, facility_id="PKM-01")
    assert late.outcome is CheckInOutcome.WRONG_DAY
    status = await registry.status_by_nik(nik(0))
    assert status and status.ticket and status.ticket.state == "active"  # none of it used it
    # A deployment may allow a day either side (local dates).
    config = make_test_config(key_prefix, **{"registration.check_in_tolerance_days": 1})
    lenient = backend.reconfigured(config)
    valid = await lenient.check_in(ticket.code, facility_id="PKM-01")
    assert valid.outcome is CheckInOutcome.VALID
    assert (await registry.stats())["totals"]["checked_in"] == 1


async def test_a_payload_that_is_not_ascii_is_forged_or_unknown(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    ticket = await booked(registry, nik(0))
    backend.clock.advance(DAY_SECONDS)
    forged = ticket.payload[:-3] + "ÄÖÜ"
    assert (await registry.check_in(forged, facility_id="PKM-01")).outcome is CheckInOutcome.FORGED
    for text in ("VX1.é", "ÄÖÜ", "Straße1", "٣٤٥٦٧٨٩٢", ticket.code[:-1] + "é"):
        result = await registry.check_in(text, facility_id="PKM-01")
        assert result.outcome in (CheckInOutcome.FORGED, CheckInOutcome.UNKNOWN), text
    assert (await registry.check_in(ticket.payload, facility_id="PKM-01")).outcome == "valid"


async def test_forged_and_altered_payloads_are_rejected(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    ticket = await booked(registry, nik(0))
    backend.clock.advance(DAY_SECONDS)
    parts = ticket.payload.split(".")
    altered_day = ".".join([*parts[:3], "20210115", *parts[4:]])
    altered_session = ".".join([*parts[:4], "siang", *parts[5:]])
    bad_sig = ".".join([*parts[:6], "A" * 16])
    for forged in (altered_day, altered_session, bad_sig, "VX1.garbage", "VX1." + "." * 8):
        assert (
            await registry.check_in(forged, facility_id="PKM-01")
        ).outcome is CheckInOutcome.FORGED, forged
    # Signed with another key (someone's own "ticket generator"): forged.
    signer = registry._signer
    other_key = TicketSigner("another-key", signer.alphabet, signer.code_length)
    fake = other_key.payload(ticket.code, "PKM-01", DAY, "pagi", 1)
    assert (await registry.check_in(fake, facility_id="PKM-01")).outcome is CheckInOutcome.FORGED
    # A correctly signed payload whose fields do not match the stored ticket: forged.
    mismatch = signer.payload(ticket.code, "PKM-02", DAY, "pagi", 1)
    assert (
        await registry.check_in(mismatch, facility_id="PKM-01")
    ).outcome is CheckInOutcome.FORGED
    unknown = signer.payload("ZZZZZZZZ", "PKM-01", DAY, "pagi", 1)
    assert (
        await registry.check_in(unknown, facility_id="PKM-01")
    ).outcome is CheckInOutcome.UNKNOWN
    # None of that used the ticket up.
    assert (
        await registry.check_in(ticket.payload, facility_id="PKM-01")
    ).outcome is CheckInOutcome.VALID


async def test_bare_code_and_cancelled_tickets(backend: Backend) -> None:
    registry = await load(backend.registry, workers=2)
    kept = await booked(registry, nik(0))
    dropped = await booked(registry, nik(1))
    await registry.cancel(nik(1))
    backend.clock.advance(DAY_SECONDS)
    assert (
        await registry.check_in(dropped.payload, facility_id="PKM-01")
    ).outcome is CheckInOutcome.CANCELLED
    assert (
        await registry.check_in(dropped.code, facility_id="PKM-01")
    ).outcome is CheckInOutcome.CANCELLED
    assert (
        await registry.check_in("not-a-code!", facility_id="PKM-01")
    ).outcome is CheckInOutcome.UNKNOWN
    assert (
        await registry.check_in("ZZZZ-ZZZZ", facility_id="PKM-01")
    ).outcome is CheckInOutcome.UNKNOWN
    assert (
        await registry.check_in("  " + kept.code.lower() + " ", facility_id="PKM-01")
    ).outcome == "valid"


async def test_a_replaced_ticket_cannot_be_checked_in(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    old = await booked(registry, nik(0))
    moved = await registry.reschedule(nik(0), "PKM-02", DAY, "siang")
    assert moved.ticket is not None
    backend.clock.advance(DAY_SECONDS)
    replaced = await registry.check_in(old.payload, facility_id="PKM-01")
    assert replaced.outcome is CheckInOutcome.CANCELLED
    assert replaced.ticket is not None and replaced.ticket.state == "cancelled"
    assert (
        await registry.check_in(moved.ticket.code, facility_id="PKM-02")
    ).outcome is CheckInOutcome.VALID


async def test_statistics_by_status_and_regency(backend: Backend) -> None:
    registry = await load(backend.registry, workers=4)
    groups = {g.group_id: False for g in registry.screening_groups()}
    await registry.record_screening(nik(0), groups)
    await registry.record_screening(nik(1), {**groups, "gejala": True})
    await registry.record_screening(nik(2), {**groups, "kronis": True})
    await registry.book(nik(0), "PKM-SBY", DAY, "pagi")  # booked in another regency
    kept = await registry.record_screening(nik(1), groups)  # too soon: the deferral stays
    assert (kept.outcome, kept.retry_on) == ("deferred", date(2021, 1, 27))
    stats = await registry.stats()
    assert stats["workers_listed"] == 4 and stats["facilities"] == 4
    totals = stats["totals"]
    assert (totals["screened"], totals["eligible"], totals["deferred"]) == (3, 1, 1)
    assert (totals["not_eligible"], totals["booked"]) == (1, 1)
    assert stats["by_regency"]["Kota Bandung"]["screened"] == 3
    assert stats["by_regency"]["Kota Surabaya"]["booked"] == 1
    overview = {row["facility_id"]: row for row in await registry.facility_overview()}
    assert overview["PKM-SBY"]["booked"] == 1
    # 12 open days in the window (13 Jan is today, Sundays closed), 60 a day.
    assert (overview["PKM-SBY"]["window_days"], overview["PKM-SBY"]["capacity"]) == (12, 720)
    backend.clock.advance(14 * DAY_SECONDS)
    await registry.record_screening(nik(1), groups)  # re-screened on the retry date: eligible
    totals = (await registry.stats())["totals"]
    assert (totals["screened"], totals["eligible"], totals["deferred"]) == (3, 2, 0)


async def test_screening_of_someone_not_listed(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    result = await registry.record_screening("3273011503859999", {})
    assert (result.outcome, result.reason_id) == ("not_eligible", "not_listed")
    assert (await registry.stats())["totals"]["screened"] == 0
