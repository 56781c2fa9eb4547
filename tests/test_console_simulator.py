"""The phone in the browser (/simulator): a *119# journey to a ticket on a phone-sized
screen, the ticket SMS in the phone's inbox at the development SMSC, and SMS to 1199."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from core.config import Config
from tests.browser import browser, needs_chromium, phone_page, screenshot  # noqa: F401
from tests.conftest import make_test_config
from tests.console_harness import sms_channel
from tests.test_openapi import _document, served_routes
from tests.test_smpp_support import Sim, sim_fixture, smpp_overrides  # noqa: F401
from tests.ussd_harness import PHONE, last6, load_registry, running_server
from ussd_server.app import create_app, startup_warnings

CODE = re.compile(r"Kode tiket:\s+([A-Z0-9]{6,})")  # the handset may wrap the line


def simulator_config(prefix: str, sim: Sim) -> Config:
    return make_test_config(
        prefix,
        **smpp_overrides(sim),
        **{"simulator.enabled": True, "smsc_sim.control_port": sim.control_port},
    )


@pytest.fixture
async def site(sim: Sim, key_prefix: str, redis, keys) -> AsyncIterator[str]:
    await load_registry(redis, keys)
    config = simulator_config(key_prefix, sim)
    async with running_server(config) as base, sms_channel(config):
        yield base


async def answer(page, value: str) -> str:
    await page.fill("#f-answer", value)
    await page.get_by_role("button", name="Send", exact=True).click()
    return await page.inner_text("#screen")


@needs_chromium
async def test_a_journey_to_a_ticket_in_the_browser_phone(phone_page, site: str) -> None:  # noqa: F811
    page = phone_page
    await page.goto(f"{site}/simulator")
    assert await page.input_value("#f-phone") == PHONE
    await page.get_by_role("button", name="Dial *119#").click()
    assert "1. Daftar vaksinasi" in await page.inner_text("#screen")
    assert "tenaga kesehatan" in await answer(page, "1")
    assert "6 digit terakhir NIK" in await answer(page, "1")
    assert "Lokasi vaksin" in await answer(page, last6(1))
    screen = await answer(page, "1")
    while re.match(r"\(\d+/\d+\)", screen):  # the screening questions: "2" = no
        screen = await answer(page, "2")
    assert "Konfirmasi" in await answer(page, "1")
    final = await answer(page, "1")
    code = CODE.search(final).group(1)
    assert "(session ended)" in await page.inner_text("main")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await screenshot(page, "simulator-ticket")

    # The ticket SMS went out through the development SMSC to this phone.
    for _ in range(50):
        await page.get_by_role("button", name="Check the inbox").click()
        if code in await page.inner_text("#inbox"):
            break
    assert code in await page.inner_text("#inbox")
    await page.fill("#f-sms", "BANTUAN")
    await page.get_by_role("button", name="Send SMS").click()
    assert "VAKSIN" in (await page.locator("#inbox li").all_inner_texts())[-1]
    await screenshot(page, "simulator-sms")


@pytest.mark.parametrize("dialect", ["hubtel", "json"])
async def test_every_dialect_can_be_dialled_without_javascript(site: str, dialect: str) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{site}/simulator") as resp:
            token = re.search(r'name="csrf" value="([^"]+)"', await resp.text()).group(1)
        form = {"csrf": token, "do": "dial", "dialect": dialect, "phone": "0812 0000 0001"}
        async with http.post(f"{site}/simulator", data=form) as resp:
            page = await resp.text()
        assert resp.status == 200 and "1. Daftar vaksinasi" in page
        assert f'name="dialect" value="{dialect}"' in page
        # The same form from elsewhere (no cookie of ours) does nothing.
        async with (
            aiohttp.ClientSession() as stranger,
            stranger.post(f"{site}/simulator", data=form) as resp,
        ):
            assert resp.status == 403


async def test_the_page_is_off_unless_enabled(config: Config, sim: Sim, key_prefix: str) -> None:
    assert ("get", "/simulator") not in served_routes(create_app(config))
    assert not any("/simulator" in w for w in startup_warnings(config))
    enabled = simulator_config(key_prefix, sim)
    assert any("/simulator" in w for w in startup_warnings(enabled))  # said at `serve`
    app = create_app(enabled)
    assert ("post", "/simulator") in served_routes(app)
    assert {"get", "post"} <= set(_document(app)["paths"]["/simulator"])
