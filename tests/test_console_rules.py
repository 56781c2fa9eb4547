"""The help desk follows the domain's rules: it screens and offers times through the same
Registry as the dialogue (an agent's browser without the browser, real server and Redis)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from registration import redis_import
from registration.service import Registry
from tests.conftest import make_test_config
from tests.console_harness import (
    AGENT,
    PASSWORD,
    Desk,
    audit_entries,
    console_config,
    first_ref,
)
from tests.ussd_harness import PHONE, load_registry, nik, running_server

TODAY = (datetime.now(UTC) + timedelta(hours=7)).date()  # the service's local date (WIB)
OLD_PHONE, TURNING_PHONE = "6281277770001", "6281277770002"


def born(years: int, before: date, serial: int) -> str:
    """A man's NIK (Kota Bandung), born ``years`` years before ``before``."""
    try:
        day = before.replace(year=before.year - years)
    except ValueError:  # 29 February
        day = before.replace(year=before.year - years, day=28)
    return f"327301{day:%d%m%y}{serial:04d}"


SIXTY_IN_FIVE_DAYS = TODAY + timedelta(days=5)
TURNS_60 = born(60, SIXTY_IN_FIVE_DAYS, 2)
AGED_68 = born(68, TODAY, 1)


@pytest.fixture
async def desk(key_prefix: str, tmp_path: Path, redis, keys) -> AsyncIterator[Desk]:
    await load_registry(redis, keys)
    workers = [
        "nik,full_name,phone,profession,facility_id",
        f"{AGED_68},Bambang Sutrisno,{OLD_PHONE},dokter,F001",
        f"{TURNS_60},Wahyu Hidayat,{TURNING_PHONE},perawat,F001",
    ]
    assert (await redis_import.import_health_workers(redis, keys, workers)).rows_bad == 0
    config = console_config(key_prefix, tmp_path)
    async with (
        running_server(config) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        desk = Desk(http, base)
        assert await desk.sign_in(name=AGENT, secret=PASSWORD) == 200
        yield desk


async def open_registration(desk: Desk, phone: str) -> str:
    _, page = await desk.post("/helpdesk/search", query=phone)
    ref = first_ref(page)
    return (await desk.post("/helpdesk/register", ref=ref))[1]


async def test_an_agent_cannot_screen_a_worker_outside_this_phase(desk: Desk) -> None:
    page = html.unescape(await open_registration(desk, OLD_PHONE))
    assert "Screening: not eligible. Ages 60 and over are not in this phase yet." in page
    assert "Record the answers" not in page  # no questions asked
    assert "Not eligible (usia_60_plus)" in page  # recorded: the registrant's state says so


async def test_an_agent_is_offered_only_the_days_the_caller_may_book(desk: Desk) -> None:
    page = await open_registration(desk, TURNING_PHONE)  # 59 today, 60 in five days
    ref = first_ref(page)
    answers = {name: "no" for name in re.findall(r'name="(q-\w+)"', page)}
    _, page = await desk.post("/helpdesk/screening", ref=ref, **answers)
    assert "Eligible: choose a place." in html.unescape(page)
    _, page = await desk.post("/helpdesk/slots", ref=ref, mode="book", facility="F001")
    days = {
        date.fromisoformat(v.split("|")[0])
        for v in re.findall(r'name="slot" value="([^"]+)"', page)
    }
    assert days and max(days) < SIXTY_IN_FIVE_DAYS


@pytest.mark.parametrize("typed", ["{0}", "{1}-{2}-{3}", "{1}.{2}.{3}", " {1} {2} {3} "])
async def test_a_nik_is_found_in_every_form_the_import_takes(desk: Desk, typed: str) -> None:
    nik = AGED_68
    query = typed.format(nik, nik[:6], nik[6:12], nik[12:])
    status, page = await desk.post("/helpdesk/search", query=query)
    assert status == 200 and "Bambang Sutrisno" in html.unescape(page), query


async def test_the_help_desk_sees_a_screening_a_later_one_replaced(desk: Desk) -> None:
    """Not eligible, then eligible a minute later: the desk saw only "eligible"."""
    page = await open_registration(desk, TURNING_PHONE)
    answers = {name: "no" for name in re.findall(r'name="(q-\w+)"', page)}
    refused = {**answers, "q-covid_hamil": "yes"}
    _, page = await desk.post("/helpdesk/screening", ref=first_ref(page), **refused)
    assert "Screening: not eligible." in html.unescape(page)
    page = await open_registration(desk, TURNING_PHONE)  # screened again: the rule allows it
    _, page = await desk.post("/helpdesk/screening", ref=first_ref(page), **answers)
    assert "Eligible: choose a place." in html.unescape(page)
    _, page = await desk.post("/helpdesk/search", query=TURNING_PHONE)
    _, page = await desk.post("/helpdesk/registrant", ref=first_ref(page))
    assert "Eligible, no booking" in page and "screened not_eligible covid_hamil dose 1" in page


async def test_a_cancel_names_its_ticket_and_leaves_a_booking_moved_meanwhile(
    desk: Desk, key_prefix: str, redis
) -> None:
    """The confirm page named nobody's ticket and "Yes" cancelled whatever was active: a
    booking the caller had just moved by SMS went instead of the one discussed."""
    other = Registry.from_config(make_test_config(key_prefix), redis)  # another channel
    try:
        no = {g.group_id: False for g in other.screening_groups()}
        await other.record_screening(nik(1), no)
        slots = await other.available_slots("F001", nik=nik(1))
        shown = (await other.book(nik(1), "F001", slots[0].day, slots[0].session_id)).ticket
        _, page = await desk.post("/helpdesk/search", query=PHONE)
        ref = first_ref(page)
        _, page = await desk.post("/helpdesk/cancel", ref=ref)
        assert shown is not None and f"Ticket <strong>{shown.code}</strong>" in page
        [code] = re.findall(r'name="code" value="([^"]+)"', page)
        moved = (await other.reschedule(nik(1), "F001", slots[2].day, slots[2].session_id)).ticket
        _, page = await desk.post("/helpdesk/cancel", ref=ref, confirm="yes", code=code)
        assert f"Not cancelled: the booking is no longer ticket {shown.code}" in page
        status = await other.status_by_nik(nik(1))
        assert moved is not None and status is not None and status.ticket == moved
        entries = await audit_entries(desk.base)
        assert "not cancelled" in next(e for e in entries if e["action"] == "cancel")["detail"]
    finally:
        await other.aclose()
