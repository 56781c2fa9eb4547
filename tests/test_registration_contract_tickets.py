"""Tickets and check-in: idempotent issue, signed QR, forgery, reuse, dose 2, statistics.

Contract tests: each runs against the Redis stores and the memory stores.
"""

from __future__ import annotations

from datetime import date

import pytest

from registration.models import BookingOutcome, CheckInOutcome
from registration.service import Registry
from registration.tickets import TicketSigner
from tests.registry_backends import Backend
from tests.test_registration_support import load, nik, screened

DAY = date(2021, 1, 14)


async def booked(registry: Registry, who: str, facility: str = "PKM-01", session: str = "pagi"):
    await screened(registry, who)
    result = await registry.book(who, facility, DAY, session)
    assert result.outcome is BookingOutcome.BOOKED and result.ticket
    return result.ticket


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
    result = await registry.check_in(ticket.payload)
    assert result.outcome is CheckInOutcome.VALID
    assert result.dose2_due == date(2021, 1, 27)  # checked in on the 13th (clock) + 14 days
    assert result.ticket and result.ticket.state == "used"
    second = await registry.check_in(ticket.payload)
    assert second.outcome is CheckInOutcome.ALREADY_USED
    assert (await registry.check_in(ticket.code)).outcome is CheckInOutcome.ALREADY_USED
    status = await registry.status_by_nik(nik(0))
    assert status and status.dose2_due == date(2021, 1, 27)
    assert status.ticket and status.ticket.state == "used"
    # Dose 2 needs a fresh screening, then books as dose 2 with a new ticket.
    assert (await registry.book(nik(0), "PKM-01", DAY, "siang")).outcome == "not_eligible"
    dose2 = await booked(registry, nik(0), session="siang")
    assert dose2.dose == 2 and dose2.code != ticket.code
    done = await registry.check_in(dose2.payload)
    assert done.outcome is CheckInOutcome.VALID and done.dose2_due is None
    stats = (await registry.stats())["totals"]
    assert (stats["checked_in"], stats["booked"]) == (2, 0)
    # Two doses done: a third booking is refused with the last ticket, even when screened.
    await screened(registry, nik(0))
    third = await registry.book(nik(0), "PKM-01", date(2021, 1, 15), "pagi")
    assert third.outcome is BookingOutcome.ALREADY_BOOKED and third.ticket == done.ticket
    status = await registry.status_by_nik(nik(0))
    assert status is not None
    assert [line.split(" ")[1] for line in status.history] == [
        "booked",
        "checked",
        "booked",
        "checked",
    ]


async def test_forged_and_altered_payloads_are_rejected(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    ticket = await booked(registry, nik(0))
    parts = ticket.payload.split(".")
    altered_day = ".".join([*parts[:3], "20210115", *parts[4:]])
    altered_session = ".".join([*parts[:4], "siang", *parts[5:]])
    bad_sig = ".".join([*parts[:6], "A" * 16])
    for forged in (altered_day, altered_session, bad_sig, "VX1.garbage", "VX1." + "." * 8):
        assert (await registry.check_in(forged)).outcome is CheckInOutcome.FORGED, forged
    # Signed with another key (someone's own "ticket generator"): forged.
    signer = registry._signer
    other_key = TicketSigner("another-key", signer.alphabet, signer.code_length)
    fake = other_key.payload(ticket.code, "PKM-01", DAY, "pagi", 1)
    assert (await registry.check_in(fake)).outcome is CheckInOutcome.FORGED
    # A correctly signed payload whose fields do not match the stored ticket: forged.
    mismatch = signer.payload(ticket.code, "PKM-02", DAY, "pagi", 1)
    assert (await registry.check_in(mismatch)).outcome is CheckInOutcome.FORGED
    unknown = signer.payload("ZZZZZZZZ", "PKM-01", DAY, "pagi", 1)
    assert (await registry.check_in(unknown)).outcome is CheckInOutcome.UNKNOWN
    # None of that used the ticket up.
    assert (await registry.check_in(ticket.payload)).outcome is CheckInOutcome.VALID


async def test_bare_code_and_cancelled_tickets(backend: Backend) -> None:
    registry = await load(backend.registry, workers=2)
    kept = await booked(registry, nik(0))
    dropped = await booked(registry, nik(1))
    await registry.cancel(nik(1))
    assert (await registry.check_in(dropped.payload)).outcome is CheckInOutcome.CANCELLED
    assert (await registry.check_in(dropped.code)).outcome is CheckInOutcome.CANCELLED
    assert (await registry.check_in("not-a-code!")).outcome is CheckInOutcome.UNKNOWN
    assert (await registry.check_in("ZZZZ-ZZZZ")).outcome is CheckInOutcome.UNKNOWN
    assert (await registry.check_in("  " + kept.code.lower() + " ")).outcome == "valid"


async def test_a_replaced_ticket_cannot_be_checked_in(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    old = await booked(registry, nik(0))
    moved = await registry.reschedule(nik(0), "PKM-02", DAY, "siang")
    assert moved.ticket is not None
    replaced = await registry.check_in(old.payload)
    assert replaced.outcome is CheckInOutcome.CANCELLED
    assert replaced.ticket is not None and replaced.ticket.state == "cancelled"
    assert (await registry.check_in(moved.ticket.code)).outcome is CheckInOutcome.VALID


async def test_statistics_by_status_and_regency(backend: Backend) -> None:
    registry = await load(backend.registry, workers=4)
    groups = {g.group_id: False for g in registry.screening_groups()}
    await registry.record_screening(nik(0), groups)
    await registry.record_screening(nik(1), {**groups, "gejala": True})
    await registry.record_screening(nik(2), {**groups, "kronis": True})
    await registry.record_screening(nik(1), groups)  # re-screened later: now eligible
    await registry.book(nik(0), "PKM-SBY", DAY, "pagi")  # booked in another regency
    stats = await registry.stats()
    assert stats["workers_listed"] == 4 and stats["facilities"] == 4
    totals = stats["totals"]
    assert (totals["screened"], totals["eligible"], totals["deferred"]) == (3, 2, 0)
    assert (totals["not_eligible"], totals["booked"]) == (1, 1)
    assert stats["by_regency"]["Kota Bandung"]["screened"] == 3
    assert stats["by_regency"]["Kota Surabaya"]["booked"] == 1
    overview = {row["facility_id"]: row for row in await registry.facility_overview()}
    assert overview["PKM-SBY"]["booked"] == 1
    # 12 open days in the window (13 Jan is today, Sundays closed), 60 a day.
    assert (overview["PKM-SBY"]["window_days"], overview["PKM-SBY"]["capacity"]) == (12, 720)


async def test_screening_of_someone_not_listed(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    result = await registry.record_screening("3273011503859999", {})
    assert (result.outcome, result.reason_id) == ("not_eligible", "not_listed")
    assert (await registry.stats())["totals"]["screened"] == 0
