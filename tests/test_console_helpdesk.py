"""The help desk in a real browser on a phone-sized screen: an agent signs in, finds a
health worker, registers, reschedules, re-sends the ticket SMS (delivered by the
development SMSC) and cancels; the audit log shows each action with the masked NIK."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from core.privacy import mask_nik
from tests.browser import browser, needs_chromium, phone_page, screenshot  # noqa: F401
from tests.console_harness import (
    AGENT,
    OPERATOR_TOKEN,
    PASSWORD,
    console_config,
    sms_channel,
    texts_to,
)
from tests.test_smpp_support import Sim, sim_fixture, smpp_overrides  # noqa: F401
from tests.ussd_harness import PHONE, load_registry, nik, running_server

pytestmark = needs_chromium
TICKET = re.compile(r"Booked: ticket ([A-Z0-9]{6,})")
MAX_PAGE_BYTES = 50_000


@pytest.fixture
async def desk_site(sim: Sim, key_prefix: str, tmp_path: Path, redis, keys) -> AsyncIterator[str]:
    await load_registry(redis, keys)
    config = console_config(key_prefix, tmp_path, **smpp_overrides(sim))
    async with running_server(config) as base, sms_channel(config):
        yield base


async def sign_in(page, base: str) -> None:
    await page.goto(f"{base}/helpdesk")
    assert page.url.endswith("/helpdesk/login?next=/helpdesk")
    await page.fill("#f-name", AGENT)
    await page.fill("#f-secret", PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    assert page.url == f"{base}/helpdesk"


async def book_a_slot(page, slot_index: int, button: str) -> str:
    """On the facility page: take the assigned facility, then the given free slot."""
    await page.get_by_role("button", name="Show the free slots").click()
    await page.check(f"#f-slot-{slot_index}")
    await page.get_by_role("button", name=button).click()
    notice = await page.get_by_role("status").inner_text()
    found = TICKET.search(notice)
    assert found, notice
    return found.group(1)


async def fits_a_phone(page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    assert len((await page.content()).encode()) < MAX_PAGE_BYTES


async def test_a_wrong_password_is_refused_in_the_browser(phone_page, desk_site) -> None:  # noqa: F811
    await phone_page.goto(f"{desk_site}/helpdesk/login")
    await phone_page.fill("#f-name", AGENT)
    await phone_page.fill("#f-secret", "not-the-password")
    await phone_page.get_by_role("button", name="Sign in", exact=True).click()
    assert await phone_page.get_by_role("alert").inner_text() == "Wrong name or password."
    await screenshot(phone_page, "console-login-refused")


async def test_an_agent_registers_reschedules_resends_and_cancels_for_a_caller(
    phone_page,  # noqa: F811
    desk_site: str,
    sim: Sim,
) -> None:
    page, base = phone_page, desk_site
    await sign_in(page, base)
    await page.fill("#f-query", "0812-0000-0001")  # the caller's phone, as they say it
    await page.get_by_role("button", name="Search").click()
    assert "Siti Nurhaliza Putri 1" in await page.inner_text("table")
    assert nik(1) not in await page.content()
    await page.get_by_role("button", name="Open").click()
    assert await page.inner_text("#nik") == mask_nik(nik(1))
    assert await page.inner_text("#state") == "Not screened yet"

    # Registration: the caller's screening answers, then the assigned facility and a slot.
    await page.get_by_role("button", name="Register (screening)").click()
    for answer in await page.locator("input[value=no]").all():
        await answer.check()
    await fits_a_phone(page)
    await page.get_by_role("button", name="Record the answers").click()
    assert "Eligible" in await page.get_by_role("status").inner_text()
    first = await book_a_slot(page, 0, "Book this slot")
    assert (await page.inner_text("#state")).startswith(f"Booked: ticket {first}")
    await screenshot(page, "console-helpdesk-booked")

    await page.get_by_role("button", name="Reschedule").click()
    second = await book_a_slot(page, 1, "Move the booking here")
    assert second != first

    await page.get_by_role("button", name="Re-send ticket SMS").click()
    assert "Ticket SMS queued to 62812*****001" in await page.get_by_role("status").inner_text()
    # The reschedule's ticket SMS and the re-sent one both reach the phone.
    assert len(await texts_to(sim, PHONE, second, at_least=2)) == 2

    await page.get_by_role("button", name="Cancel booking").click()
    await page.get_by_role("button", name="Yes, cancel the booking").click()
    assert f"Booking cancelled (ticket {second})" in await page.get_by_role("status").inner_text()
    assert "Eligible, no booking" in await page.inner_text("#state")

    await page.get_by_role("button", name="Show NIK").click()
    assert await page.inner_text("#nik") == nik(1)
    await check_the_audit_log(page, base)


async def check_the_audit_log(page, base: str) -> None:
    await page.goto(f"{base}/helpdesk/audit")
    rows = await page.eval_on_selector_all(
        "#audit tbody tr",
        "rows => rows.map(r => [r.dataset.agent, r.dataset.action, r.dataset.nik])",
    )
    mine = [row for row in rows if row[0] == AGENT]
    actions = [action for _, action, _ in reversed(mine)]
    assert actions == [
        "login",
        "search",
        "view",
        "screening",
        "book",
        "reschedule",
        "resend_sms",
        "cancel",
        "reveal_nik",
    ]
    assert {masked for _, action, masked in mine if action != "login"} == {mask_nik(nik(1))}
    assert nik(1) not in await page.content()
    await fits_a_phone(page)
    await screenshot(page, "console-helpdesk-audit")
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{base}/api/audit?limit=3", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        ) as resp,
    ):
        entries = (await resp.json())["entries"]
    assert [e["action"] for e in entries] == ["reveal_nik", "cancel", "resend_sms"]
    assert entries[0]["nik_masked"] == mask_nik(nik(1)) and entries[0]["agent"] == AGENT
