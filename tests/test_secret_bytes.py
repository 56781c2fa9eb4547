"""A secret a caller presents with bytes outside ASCII (a form's CSRF token, a signed
cookie, a bearer token, a gateway's shared secret) is a wrong secret: 401 or 403, never
a 500 or a traceback. The old code compared such values with ``hmac.compare_digest``
on ``str`` (TypeError) or encoded aiohttp's surrogates (UnicodeEncodeError)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import make_test_config
from tests.console_harness import AGENT, PASSWORD
from tests.redis_server import free_port
from tests.test_http_probes import no_tracebacks, raw_request
from tests.ussd_harness import running_server
from ussd_server.console.passwords import set_agent

GATEWAY_SECRET = "s3cret-from-the-gateway"
METRICS_TOKEN = "metrics-token-for-this-test"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.fixture
async def server(key_prefix: str, tmp_path: Path, redis) -> AsyncIterator[tuple[str, str]]:
    """(the main port, the lean gateway listener): every secret-checking door shut."""
    agents = tmp_path / "console_agents"
    set_agent(agents, AGENT, PASSWORD)
    environ = {
        "USSD_USSD_DIALECTS_AFRICASTALKING_SECRET": GATEWAY_SECRET,
        "USSD_METRICS_TOKEN": METRICS_TOKEN,
    }
    listener = free_port()
    overrides = {
        "console.agents_file": str(agents),
        "web.enabled": True,
        "ussd.gateway_port": listener,
        "ussd.allow_unauthenticated": False,
        "ussd.dialects.hubtel.enabled": False,
        "ussd.dialects.json.enabled": False,
        "ussd.dialects.africastalking.auth_header": "X-Gateway-Secret",
    }
    config = make_test_config(key_prefix, environ=environ, **overrides)
    async with running_server(config) as main:
        yield main, f"http://127.0.0.1:{listener}"


async def test_raw_header_bytes_that_are_not_utf8_are_a_wrong_secret(
    server: tuple[str, str], caplog
) -> None:
    main, gateway = server
    for path, header in (
        ("/api/stats", b"Authorization: Bearer \xe9\xff"),
        ("/metrics", b"Authorization: Bearer \xe9\xff"),
    ):
        answer = await raw_request(main, b"GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n" % (
            path.encode(), header))  # fmt: skip
        assert _status(answer) == 401, (path, answer[:200])
    body = b"sessionId=s1&serviceCode=%2A119%23&phoneNumber=%2B6281234567890&text="
    head = (
        b"POST /ussd/africastalking HTTP/1.1\r\nHost: x\r\nX-Gateway-Secret: \xe9\x80\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    for base in (main, gateway):  # the aiohttp port and the lean listener
        assert _status(await raw_request(base, head)) == 401, base
    no_tracebacks(caplog)


async def _csrf(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as resp:
        found = _CSRF.search(await resp.text())
    assert found, url
    return found.group(1)


async def test_a_form_token_outside_ascii_is_refused_as_any_wrong_token(
    server: tuple[str, str], caplog
) -> None:
    main, _ = server
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for page, target, fields in (
            ("/daftar", "/daftar/lang", "lang=en"),
            ("/helpdesk/login", "/helpdesk/login", "method=token&token=x"),
        ):
            assert await _csrf(http, main + page)  # the session cookie is set
            data = f"csrf=%C3%A9%F0%9F%98%80&{fields}".encode()
            async with http.post(main + target, data=data, headers=FORM) as resp:
                assert resp.status == 403, (target, resp.status)
    no_tracebacks(caplog)


async def test_a_console_cookie_outside_ascii_asks_for_a_sign_in(
    server: tuple[str, str], caplog
) -> None:
    main, _ = server
    for cookie in (b"abc.99999999999.\xc3\xa9", b"abc.99999999999.\xff", b"\xff.1.x"):
        head = b"GET /helpdesk HTTP/1.1\r\nHost: x\r\nCookie: vx_console=%s\r\n\r\n" % cookie
        answer = await raw_request(main, head)
        assert _status(answer) == 303 and b"/helpdesk/login" in answer, answer[:200]
    no_tracebacks(caplog)


async def test_a_console_form_without_a_length_is_refused_unread(server: tuple[str, str]) -> None:
    """Chunked: aiohttp would read up to the uploads' limit (256 MiB) before any sign-in."""
    main, _ = server
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        token = await _csrf(http, main + "/helpdesk/login")

        async def chunks() -> AsyncIterator[bytes]:
            yield f"csrf={token}&method=token&token=".encode()
            yield b"a" * 65536

        async with http.post(main + "/helpdesk/login", data=chunks(), headers=FORM) as resp:
            assert resp.status == 411
            assert "Content-Length" in await resp.text()
