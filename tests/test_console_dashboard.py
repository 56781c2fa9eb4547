"""The operator dashboard in a real browser: its figures are the Registry's, its charts are
server-drawn SVG, a blast's receipts show, and it refreshes itself without a reload."""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest

from core.config import Config
from core.settings import service_settings
from registration.slots import local_today
from tests.browser import browser, needs_chromium, phone_page, screenshot  # noqa: F401
from tests.conftest import make_test_config
from tests.console_harness import OPERATOR_TOKEN, Desk, sms_channel
from tests.test_smpp_blast import run_campaign, wait_progress
from tests.test_smpp_support import Sim, sim_fixture, smpp_overrides  # noqa: F401
from tests.test_ussd_journey import register
from tests.ussd_harness import PHONE, AtPhone, last6, load_registry, nik, running_server
from ussd_server.context import AppContext

CHARTS = ("c-bookings", "c-screenings", "c-channels", "c-outcomes", "c-regency", "c-seats")


async def screened_and_booked(ctx: AppContext, serial: int, channel: str) -> None:
    """A registrant screened eligible and booked on the first free slot, through ``channel``."""
    registry = ctx.registry
    groups = registry.screening_groups()
    await registry.record_screening(nik(serial), {g.group_id: False for g in groups})
    [facility, *_] = await registry.facility_choices(nik(serial))
    slot = next(s for s in await registry.available_slots(facility.facility_id) if s.seats_left)
    result = await registry.book(
        nik(serial), facility.facility_id, slot.day, slot.session_id, channel=channel
    )
    assert result.ticket is not None, result


@pytest.fixture
def config(sim: Sim, key_prefix: str) -> Config:
    """This module's config: SMS through the simulator, the dashboard refreshing each second."""
    overrides = {
        **smpp_overrides(sim),
        "console.dashboard_refresh_seconds": 1,
        "console.dashboard_figures_seconds": 1.0,
    }
    return make_test_config(key_prefix, **overrides)


async def sign_in_with_the_token(page, base: str, landing: str) -> None:
    await page.goto(f"{base}{landing}")
    await page.fill("#f-token", OPERATOR_TOKEN)
    await page.get_by_role("button", name="Sign in with the token").click()
    assert page.url == f"{base}{landing}"


@needs_chromium
async def test_the_dashboard_shows_the_registrys_figures_and_refreshes_itself(
    phone_page,  # noqa: F811
    config: Config,
    context: AppContext,
    redis,
    keys,
) -> None:
    ctx = context
    await load_registry(redis, keys)
    for serial, channel in ((1, "ussd"), (2, "sms"), (3, "helpdesk"), (900, "web")):
        await screened_and_booked(ctx, serial, channel)
    await ctx.registry.cancel(nik(2))
    async with running_server(config) as base, sms_channel(config) as sms:
        await run_campaign(sms, "jan12", {"regency": ["Kota Jakarta Selatan"]})
        await wait_progress(sms, "jan12", lambda p: p["delivered"] == 1)
        page = phone_page
        await sign_in_with_the_token(page, base, "/dashboard")
        stats = await ctx.registry.stats()
        figures = {
            name: int(await page.inner_text(f"[data-figure={name}]"))
            for name in (*stats["totals"], "workers_listed", "facilities")
        }
        assert figures == {**stats["totals"], "workers_listed": 104, "facilities": 15}
        for chart in (*CHARTS, "c-blasts"):
            assert await page.locator(f"svg#{chart}[role=img]").count() == 1, chart
        channels = await page.text_content("#c-channels-d")
        assert all(f"{c}: bookings 1" in channels for c in ("ussd", "sms", "helpdesk", "web"))
        blasts = await page.text_content("#c-blasts-d")
        assert "jan12 (done): delivered 1" in blasts and blasts.endswith("of 1")
        assert "Kota Jakarta Selatan: screened 1, booked 1" in await page.text_content(
            "#c-regency-d"
        )
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360
        assert len((await page.content()).encode()) < 50_000
        await screenshot(page, "console-dashboard")

        # Without a reload: the page's own script fetches the figures again.
        await page.evaluate("window.stillTheSamePage = true")
        await screened_and_booked(ctx, 1000, "ussd")
        booked = str(stats["totals"]["booked"] + 1)
        for _ in range(200):  # the page refreshes every second ([console] settings above)
            if await page.inner_text("[data-figure=booked]") == booked:
                break
            await asyncio.sleep(0.1)
        assert await page.inner_text("[data-figure=booked]") == booked
        assert await page.evaluate("window.stillTheSamePage") is True


async def test_the_dashboard_works_without_javascript_and_counts_channels(
    config: Config, redis, keys
) -> None:
    await load_registry(redis, keys)
    async with running_server(config) as base, aiohttp.ClientSession() as http:
        await register(AtPhone(http, base, PHONE, "at-dash"), last6(1))
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent:
            desk = Desk(agent, base)
            assert await desk.sign_in(token=OPERATOR_TOKEN) == 200
            status, page = await desk.get("/dashboard")
            assert status == 200
            assert "ussd: bookings 1" in page  # the dialogue's booking, counted by channel
            assert re.search(r"<noscript>|Reload the figures", page)
            status, fragment = await desk.get("/dashboard/fragment")
            assert status == 200 and fragment.startswith('<p id="figures-at">')
            assert "<html" not in fragment
    # The service's date (WIB by default), not the machine's: they differ from 17:00 UTC.
    today = local_today(time.time(), service_settings(config).utc_offset_hours).isoformat()
    counts = await redis.hgetall(keys.prefix + f":activity:{{a:{today}}}:counts")
    assert counts.get("booked:ussd") == "1" and counts.get("screened:eligible") == "1"


async def test_viewers_within_the_interval_share_one_reading_of_the_figures(
    config: Config, context: AppContext, redis, keys
) -> None:
    # Every open dashboard refreshes itself: the figures are read once per interval
    # ([console] dashboard_figures_seconds, 1 s here) and say when they were read.
    await load_registry(redis, keys)
    async with (
        running_server(config) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as agent,
    ):
        desk = Desk(agent, base)
        assert await desk.sign_in(token=OPERATOR_TOKEN) == 200
        _, first = await desk.get("/dashboard/fragment")
        await screened_and_booked(context, 1, "ussd")
        _, again = await desk.get("/dashboard/fragment")
        assert again == first  # the same reading: the new booking is not in it yet
        await asyncio.sleep(1.2)
        _, later = await desk.get("/dashboard/fragment")
        booked = re.search(r'data-figure="booked">(\d+)<', later)
        assert booked and booked.group(1) == "1" and later != first
