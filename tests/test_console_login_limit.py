"""The sign-in limit holds against attempts sent at once, and what a refused sign-in
leaves in the audit log: who it claimed to be only when that is an agent."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import aiohttp

from tests.console_harness import (
    AGENT,
    PASSWORD,
    Desk,
    audit_entries,
    console_config,
    csrf_of,
)
from tests.test_console_auth import desk_fixture  # noqa: F401  (fixture)
from tests.ussd_harness import running_server

LIMIT = 5  # [console] login_attempts


async def _at_once(desk: Desk, count: int, **fields: str) -> list[int]:
    """``count`` sign-ins posted together from one browser (one form, one CSRF token)."""
    await desk.get("/helpdesk/login")
    form = {"csrf": csrf_of(desk.page), "method": "password", "next": "/helpdesk", **fields}

    async def post() -> int:
        url = desk.base + "/helpdesk/login"
        async with desk.http.post(url, data=form, allow_redirects=False) as resp:
            return resp.status

    return list(await asyncio.gather(*(post() for _ in range(count))))


async def test_wrong_passwords_sent_at_once_are_checked_no_more_than_the_limit(
    desk: Desk,
) -> None:
    statuses = await _at_once(desk, 40, name=AGENT, secret="a-guess-at-it")
    assert statuses.count(401) <= LIMIT and statuses.count(429) >= 40 - LIMIT, statuses
    # Locked out now, the right password waits for the window too.
    assert await desk.sign_in(name=AGENT, secret=PASSWORD) == 429
    assert "Too many failed sign-ins" in desk.page
    limited = [e for e in await audit_entries(desk.base) if e["action"] == "login_limited"]
    assert len(limited) == 1 and limited[0]["agent"] == AGENT  # once per window, not 35 times


async def test_the_lockout_ends_with_its_window(key_prefix: str, tmp_path: Path, redis) -> None:
    config = console_config(key_prefix, tmp_path, **{"console.login_window_seconds": 5})
    jar = aiohttp.CookieJar(unsafe=True)
    async with running_server(config) as base, aiohttp.ClientSession(cookie_jar=jar) as http:
        desk = Desk(http, base)
        for _ in range(LIMIT):
            assert await desk.sign_in(name=AGENT, secret="a-guess-at-it") == 401
        assert await desk.sign_in(name=AGENT, secret=PASSWORD) == 429
        for _ in range(200):  # the window is 5 s; give it up to 20
            if await desk.sign_in(name=AGENT, secret=PASSWORD) == 200:
                break
            await asyncio.sleep(0.1)
        assert "Signed in as" in desk.page


async def test_successful_sign_ins_do_not_count_against_the_limit(desk: Desk) -> None:
    for _ in range(LIMIT + 3):  # a shared desk PC: agents sign in all day
        assert await desk.sign_in(name=AGENT, secret=PASSWORD) == 200
    assert await desk.sign_in(name=AGENT, secret="a-guess-at-it") == 401


async def test_a_nik_or_phone_typed_as_the_name_is_not_kept(desk: Desk, caplog) -> None:
    nik, phone = "3273010101900008", "081234560008"
    with caplog.at_level(logging.INFO):
        for name in (nik, phone, AGENT, "not.an.agent", nik):  # the limit's 5 failures
            assert await desk.sign_in(name=name, secret="a-guess-at-it") == 401
        assert await desk.sign_in(name=nik, secret="a-guess-at-it") == 429  # recorded too
        entries = await audit_entries(desk.base)
    claimed = [(e["action"], e["agent"]) for e in reversed(entries)]
    unknown = "(unknown name)"
    refused = [("login_refused", name) for name in (unknown, unknown, AGENT, unknown, unknown)]
    assert claimed == [*refused, ("login_limited", unknown)]
    logged = " ".join(r.getMessage() for r in caplog.records)
    for digits in (nik, nik[-6:], phone, phone[-6:]):
        assert digits not in json.dumps(entries) and digits not in logged, digits
