"""A real browser for page tests: Debian's Chromium driven by Playwright.

Browser downloads cannot work on these machines, so Chromium is launched by its
executable path (`make test` installs the `chromium` package when it is missing).
Each test that takes a screenshot keeps it under `test-artifacts/` (not in git).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Quiet, offline-friendly flags: no background traffic that the closed network refuses.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make test installs it)"
)


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as driver:
        chromium = await driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def phone_page(browser) -> AsyncIterator[object]:
    """A page the size of a small phone's screen (360 x 740, touch)."""
    context = await browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True
    )
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def screenshot(page: object, name: str) -> Path:
    """Keep a screenshot of ``page`` as a test artifact; returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
