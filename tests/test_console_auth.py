"""Signing in to the console: tokens, passwords, CSRF, the login limit, cookies, signing out."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from core.config import ConfigError
from tests.conftest import make_test_config
from tests.console_harness import (
    AGENT,
    OPERATOR_TOKEN,
    PASSWORD,
    Desk,
    console_config,
    csrf_of,
)
from tests.test_openapi import served_routes
from tests.ussd_harness import running_server
from ussd_server.app import create_app
from ussd_server.console.passwords import (
    check_agent,
    hash_password,
    read_agents,
    remove_agent,
    set_agent,
    verify_password,
)


@pytest.fixture(name="desk")
async def desk_fixture(key_prefix: str, tmp_path: Path, redis) -> AsyncIterator[Desk]:
    config = console_config(key_prefix, tmp_path)
    async with (
        running_server(config) as base,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        yield Desk(http, base)


async def test_pages_need_a_sign_in_and_a_get_goes_to_the_login(desk: Desk) -> None:
    async with desk.http.get(desk.base + "/dashboard", allow_redirects=False) as resp:
        assert resp.status == 303
        assert resp.headers["Location"] == "/helpdesk/login?next=/dashboard"
    async with desk.http.post(desk.base + "/helpdesk/search", data={"query": "x"}) as resp:
        assert resp.status == 401
    async with desk.http.get(desk.base + "/dashboard/fragment") as resp:
        assert resp.status == 401


async def test_an_agent_signs_in_with_a_password_and_lands_where_they_were_going(
    desk: Desk,
) -> None:
    await desk.get("/helpdesk/login?next=/dashboard")
    status, page = await desk.post(
        "/helpdesk/login", method="password", name=AGENT, secret=PASSWORD, next="/dashboard"
    )
    assert status == 200 and "<h1>Dashboard</h1>" in page and AGENT in page


async def test_a_wrong_password_or_token_is_refused_and_recorded(desk: Desk) -> None:
    assert await desk.sign_in(name=AGENT, secret="not-the-password") == 401
    assert "Wrong name or password." in desk.page
    assert await desk.sign_in(token="wrong-token-of-some-length") == 401
    assert "Unknown token." in desk.page
    assert await desk.sign_in(token=OPERATOR_TOKEN) == 200
    _, page = await desk.get("/helpdesk/audit")
    assert page.count('data-action="login_refused"') == 2 and 'data-action="login"' in page


async def test_a_refused_sign_in_keeps_no_personal_data_typed_as_the_name(
    desk: Desk, caplog
) -> None:
    typed = ("Sri Tambunan 0823-2007-5072", "3273010101900008")  # a person, a phone, a NIK
    with caplog.at_level(logging.INFO):
        for name in (*typed, "not.an.agent", AGENT):
            assert await desk.sign_in(name=name, secret="whatever-it-is") == 401
        assert await desk.sign_in(token=OPERATOR_TOKEN) == 200
        _, page = await desk.get("/helpdesk/audit")
    logged = " ".join(r.getMessage() for r in caplog.records)
    # The page's random form tokens are hex and may hold any four digits by chance.
    page = re.sub(r'value="[0-9a-f]{16,}"', 'value=""', page)
    for part in ("Sri", "Tambunan", "2007", "5072", "900008", "not.an.agent"):
        assert part not in page and part not in logged, part
    refused = re.findall(r'data-agent="([^"]*)" data-action="login_refused"', page)
    assert refused == [AGENT, "(unknown name)", "(unknown name)", "(unknown name)"]


async def test_a_login_elsewhere_than_from_our_form_is_refused(desk: Desk) -> None:
    async with desk.http.post(
        desk.base + "/helpdesk/login", data={"method": "token", "token": OPERATOR_TOKEN}
    ) as resp:
        assert resp.status == 403
        assert "expired" in await resp.text()


async def test_failed_sign_ins_are_limited_per_address(desk: Desk) -> None:
    for _ in range(5):  # [console] login_attempts
        assert await desk.sign_in(token="wrong-token-of-some-length") == 401
    # Past the limit even the right token waits for the window to end.
    assert await desk.sign_in(token=OPERATOR_TOKEN) == 429
    assert "Too many failed sign-ins" in desk.page


async def test_behind_a_proxy_sign_ins_are_limited_per_forwarded_client(
    key_prefix: str, tmp_path: Path, redis
) -> None:
    # Every browser reaches us through the same proxy: without the header all would be
    # one client, and one person's typos would lock out every agent.
    config = console_config(
        key_prefix, tmp_path, **{"http.client_address_header": "X-Forwarded-For"}
    )
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        running_server(config) as base,
        aiohttp.ClientSession(cookie_jar=jar, headers={"X-Forwarded-For": "203.0.113.7"}) as a,
        aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            headers={"X-Forwarded-For": "203.0.113.7, 198.51.100.9"},  # the proxy's entry last
        ) as b,
    ):
        typist, colleague = Desk(a, base), Desk(b, base)
        for _ in range(5):
            assert await typist.sign_in(token="wrong-token-of-some-length") == 401
        assert await typist.sign_in(token=OPERATOR_TOKEN) == 429
        assert await colleague.sign_in(token=OPERATOR_TOKEN) == 200


async def test_forms_without_the_sign_ins_csrf_token_do_nothing(desk: Desk) -> None:
    assert await desk.sign_in(token=OPERATOR_TOKEN) == 200
    status, page = await desk.post("/helpdesk/search", csrf="", query="6281200000001")
    assert status == 403 and "nothing was done" in page
    other = Desk(desk.http, desk.base)
    other.page = '<input name="csrf" value="0123456789abcdef0123456789abcdef">'
    status, _ = await other.post("/helpdesk/search", query="6281200000001")
    assert status == 403
    _, page = await desk.get("/helpdesk/audit")
    assert 'data-action="search"' not in page, "a refused form is not acted on"


async def test_the_session_cookie_is_httponly_strict_and_signing_out_ends_it(desk: Desk) -> None:
    await desk.get("/helpdesk/login")
    form = {"csrf": csrf_of(desk.page), "method": "token", "token": OPERATOR_TOKEN}
    form["next"] = "/helpdesk"
    async with desk.http.post(
        desk.base + "/helpdesk/login", data=form, allow_redirects=False
    ) as resp:
        assert resp.status == 303
        cookie = resp.cookies["vx_console"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
        copied = cookie.value
    assert (await desk.get("/helpdesk"))[0] == 200
    await desk.post("/helpdesk/logout")
    assert "Sign in" in desk.page
    # A copy of the cookie made before signing out does not open the console again.
    async with aiohttp.ClientSession(cookies={"vx_console": copied}) as thief:
        async with thief.get(desk.base + "/helpdesk", allow_redirects=False) as resp:
            assert resp.status == 303
        forged = copied[:-4] + "0000"
        async with thief.get(desk.base + "/helpdesk/audit", cookies={"vx_console": forged}) as resp:
            assert "<h1>Sign in</h1>" in await resp.text()


async def test_cookies_are_secure_when_the_service_is_public_over_https(
    key_prefix: str, tmp_path: Path, redis
) -> None:
    config = console_config(key_prefix, tmp_path, **{"service.public_base_url": "https://x.id"})
    async with (
        running_server(config) as base,
        aiohttp.ClientSession() as http,
        http.get(base + "/helpdesk/login") as resp,
    ):
        assert resp.cookies["vx_console_pre"]["secure"]
        assert "script-src 'none'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["Cache-Control"] == "no-store"


def test_passwords_are_salted_scrypt_hashes(tmp_path: Path) -> None:
    first, second = hash_password("same password"), hash_password("same password")
    assert first != second and first.startswith("scrypt$")
    assert verify_password(first, "same password") and not verify_password(first, "other")
    assert not verify_password("garbage", "same password")
    agents = tmp_path / "agents"
    assert set_agent(agents, "budi", "a long password") is True
    assert set_agent(agents, "budi", "another password") is False  # changed, not added
    assert oct(agents.stat().st_mode & 0o777) == "0o600"
    assert check_agent(agents, "budi", "another password")
    assert not check_agent(agents, "budi", "a long password")
    assert not check_agent(agents, "nobody", "another password")
    assert remove_agent(agents, "budi") and read_agents(agents) == {}


def test_the_console_needs_its_key_unless_turned_off(key_prefix: str) -> None:
    blank = make_test_config(key_prefix, environ={"USSD_CONSOLE_SESSION_KEY": " "})
    with pytest.raises(ConfigError, match="USSD_CONSOLE_SESSION_KEY"):
        create_app(blank)
    off = make_test_config(key_prefix, **{"console.enabled": False})
    routes = served_routes(create_app(off))
    assert ("get", "/healthz") in routes and not any(p.startswith("/helpdesk") for _, p in routes)
