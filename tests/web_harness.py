"""Test support for the registration website: a whole server with its SMS channel, a phone's
inbox at the development SMSC, and the checks every page must pass in the browser.

The server is the real one (`create_app` with `[web] enabled` and the SMS channel bound
to the simulator process), so a one-time code travels outbox -> SMPP -> SMSC, and the
test reads it where a phone would: the simulator's `GET /messages?to=62...`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_smpp_support import Sim, smpp_overrides
from tests.ussd_harness import load_registry, running_server

PAGE_LIMIT = 50_000  # bytes: every page of the site stays under this
SCREEN_WIDTH = 360
CODE = re.compile(r"\b(\d{6})\b")


@dataclass
class Site:
    base: str
    sim: Sim
    sizes: dict[str, int] = field(default_factory=dict)  # page address + step -> bytes

    @property
    def daftar(self) -> str:
        return self.base + "/daftar"

    async def codes(self, phone: str) -> list[str]:
        """The one-time codes that reached `phone` so far, oldest first."""
        data = await self.sim.call(f"/messages?to={phone}")
        return [CODE.search(t).group(1) for t in data["messages"] if "Kode daftar" in t]

    async def next_code(self, phone: str, seen: int) -> str:
        """Wait for the code after the `seen` ones already there."""
        for _ in range(200):
            codes = await self.codes(phone)
            if len(codes) > seen:
                return codes[seen]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no one-time code reached the phone (seen {seen})")


@contextlib.asynccontextmanager
async def site_server(sim: Sim, key_prefix: str, **overrides: object) -> AsyncIterator[str]:
    """The whole server (website on, SMS channel bound to `sim`) on a free port."""
    settings = {"web.enabled": True, **smpp_overrides(sim), **overrides}
    async with running_server(make_test_config(key_prefix, **settings), sms=True) as base:
        yield base


@pytest.fixture(name="site")
async def site_fixture(sim: Sim, redis, keys: AllKeys, key_prefix: str) -> AsyncIterator[Site]:
    await load_registry(redis, keys)
    async with site_server(sim, key_prefix) as base:
        yield Site(base, sim)


# One look at the page in the browser: what check_page asserts on.
_AUDIT = """() => {
  const unlabelled = [...document.querySelectorAll('input:not([type=hidden])')]
    .filter(e => !e.id || document.querySelectorAll(`label[for="${e.id}"]`).length !== 1)
    .map(e => e.name);
  const silent = [...document.querySelectorAll('[aria-describedby]')]
    .map(e => document.getElementById(e.getAttribute('aria-describedby')))
    .filter(a => !a || a.getAttribute('role') !== 'alert' || !a.textContent.trim())
    .length;
  return {lang: document.documentElement.lang, width: document.documentElement.scrollWidth,
          unlabelled, silent, scripts: document.scripts.length};
}"""


async def check_page(page, site: Site, step: str) -> None:
    """What every page must be: small, in a language, fits the phone, every input labelled,
    errors announced next to their field, no script."""
    site.sizes[step] = len((await page.content()).encode())
    assert site.sizes[step] < PAGE_LIMIT, f"{step}: {site.sizes[step]} bytes"
    audit = await page.evaluate(_AUDIT)
    assert audit["lang"] in ("id", "en"), step
    assert audit["width"] <= SCREEN_WIDTH, step
    assert audit["unlabelled"] == [] and audit["silent"] == 0 and audit["scripts"] == 0, step


async def sign_in(page, site: Site, phone: str) -> None:
    """Phone number, then the code the SMSC delivered: the dialogue's first screen."""
    await page.goto(site.daftar)
    await check_page(page, site, "phone")
    seen = len(await site.codes(phone))
    await page.get_by_label("Nomor HP").fill("0" + phone[2:])
    await page.get_by_role("button", name="Kirim kode").click()
    await check_page(page, site, "code")
    await page.get_by_label("Kode dari SMS").fill(await site.next_code(phone, seen))
    await page.get_by_role("button", name="Lanjut").click()
