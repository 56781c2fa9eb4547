"""Test support for the operator console: a server with agents, and an agent over HTTP.

:class:`Desk` is an agent's browser without the browser (aiohttp with a cookie
jar): it reads each form's CSRF token from the page, as a browser would send it.
The real-browser tests drive Chromium through the same pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from core.config import Config
from smpp.service import SmsService
from tests.conftest import make_test_config
from tests.test_smpp_support import Sim
from ussd_server.console.passwords import set_agent
from ussd_server.context import build_context

AGENT, PASSWORD = "siti.desk", "kata-sandi-rahasia"
OPERATOR_TOKEN = "test-operator-token"  # tests/conftest.py's operator token (label "operator")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_REF = re.compile(r'name="ref" value="([^"]+)"')


def console_config(prefix: str, tmp_path: Path, **overrides: Any) -> Config:
    """The test config with an agents file holding AGENT (its password PASSWORD)."""
    agents = tmp_path / "console_agents"
    set_agent(agents, AGENT, PASSWORD)
    return make_test_config(prefix, **{"console.agents_file": str(agents), **overrides})


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def first_ref(page: str) -> str:
    found = _REF.search(page)
    assert found, "the page names no registrant"
    return found.group(1)


class Desk:
    """One agent's browser session against ``base``."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base, self.page = http, base, ""

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.base + path, allow_redirects=True) as resp:
            self.page = await resp.text()
            return resp.status, self.page

    async def sign_in(self, **fields: str) -> int:
        """``token=`` or ``name=``/``secret=``; the status of the answer (after redirects)."""
        await self.get("/helpdesk/login")
        method = "token" if "token" in fields else "password"
        return (await self.post("/helpdesk/login", method=method, next="/helpdesk", **fields))[0]

    async def post(self, path: str, *, csrf: str | None = None, **fields: str) -> tuple[int, str]:
        """Post a form of the current page (its CSRF token unless ``csrf`` is given)."""
        token = csrf_of(self.page) if csrf is None else csrf
        form = {"csrf": token, **fields}
        async with self.http.post(self.base + path, data=form, allow_redirects=True) as resp:
            self.page = await resp.text()
            return resp.status, self.page


@contextlib.asynccontextmanager
async def sms_channel(config: Config) -> AsyncIterator[SmsService]:
    """The SMS channel bound to the simulator named in ``config`` (as `serve` runs it)."""
    ctx = build_context(config)
    service = SmsService(config, ctx.redis, ctx.outbox, ctx.registry, ctx.engine)
    await service.start()
    try:
        assert await service.pool.wait_ready(5), "the SMS channel did not bind"
        yield service
    finally:
        await service.stop()
        await ctx.aclose()


async def texts_to(sim: Sim, phone: str, containing: str, at_least: int = 1) -> list[str]:
    """The SMS the simulator delivered to ``phone`` that contain ``containing`` (waits a bit)."""
    found: list[str] = []
    for _ in range(100):
        data = await sim.call(f"/messages?to={phone}")
        found = [text for text in data["messages"] if containing in text]
        if len(found) >= at_least:
            break
        await asyncio.sleep(0.05)
    return found


async def audit_entries(base: str, limit: int = 100) -> list[dict[str, str]]:
    """The audit log as an operator reads it through the API, newest first."""
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base}/api/audit?limit={limit}", headers=headers) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return (await resp.json())["entries"]
