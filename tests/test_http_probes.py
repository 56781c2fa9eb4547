"""Requests no page or client of ours would send: a wrong method, a torn or mistyped body,
digits that are not 0-9, bytes HTTP does not allow. Each gets a 4xx with its reason,
never a 500, and the log gets no traceback (found by schemathesis against the server's
OpenAPI description; the old code answered every one of these with a 500)."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.console_harness import OPERATOR_TOKEN, Desk, console_config
from tests.ussd_harness import running_server

TOKEN = {"Authorization": "Bearer test-operator-token"}
FORM = "application/x-www-form-urlencoded"
NOT_UTF8 = b"csrf=\xff\xfe&name=a"
# (label, path, content type, body) of pages' forms that cannot be read as one.
UNREADABLE_FORMS = [
    ("multipart, no boundary", "multipart/form-data", b"name=a"),
    ("multipart, torn", "multipart/form-data; boundary=zz", b"garbage"),
    ("not UTF-8", FORM, NOT_UTF8),
    ("unknown charset", FORM + "; charset=klingon", b"name=a"),
]
FORM_PAGES = ["/helpdesk/login", "/helpdesk/search", "/daftar/phone", "/simulator"]


@pytest.fixture
async def server(key_prefix: str, tmp_path: Path, redis) -> AsyncIterator[str]:
    overrides = {"web.enabled": True, "simulator.enabled": True}
    async with running_server(console_config(key_prefix, tmp_path, **overrides)) as base:
        yield base


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize("method", ["TRACE", "DELETE", "PUT"])
async def test_a_method_the_operator_api_does_not_serve_gets_405_json_with_allow(
    server: str, http: aiohttp.ClientSession, method: str, caplog
) -> None:
    for path in ("/api/stats", "/api/campaigns", "/api/audit"):
        async with http.request(method, server + path, headers=TOKEN) as resp:
            assert resp.status == 405, (path, await resp.text())
            assert "error" in await resp.json()
            assert "GET" in resp.headers["Allow"]
    no_tracebacks(caplog)


async def test_operator_api_numbers_and_uploads_that_cannot_be_read_get_400(
    server: str, http: aiohttp.ClientSession, caplog
) -> None:
    for limit in ("²", "①", "0", "1" * 5000):
        async with http.get(server + "/api/audit", params={"limit": limit}, headers=TOKEN) as r:
            assert r.status == 400 and "limit" in (await r.json())["error"], limit
    for ctype, body in (
        ("multipart/form-data", b"nik,name"),
        ("multipart/form-data; boundary=zz", b"no boundary line at all"),
        ("multipart/form-data; boundary=zz", b"a" * 600_000),  # a line over aiohttp's limit
    ):
        headers = {**TOKEN, "Content-Type": ctype}
        async with http.post(server + "/api/facilities", data=body, headers=headers) as resp:
            assert resp.status == 400, ctype
            assert "multipart" in (await resp.json())["error"]
    no_tracebacks(caplog)


@pytest.mark.parametrize("path", FORM_PAGES)
async def test_a_form_that_cannot_be_read_gets_a_400_page(
    server: str, http: aiohttp.ClientSession, path: str, caplog
) -> None:
    if path.startswith("/helpdesk/") and path != "/helpdesk/login":  # an agent's own forms
        assert await Desk(http, server).sign_in(token=OPERATOR_TOKEN) == 200
    for label, ctype, body in UNREADABLE_FORMS:
        async with http.post(server + path, data=body, headers={"Content-Type": ctype}) as resp:
            assert resp.status == 400, (label, resp.status)
            assert "<!doctype html>" in (await resp.text()).lower(), label  # a page, not a 500
    no_tracebacks(caplog)


async def raw_request(base: str, head: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), 5)
    finally:
        writer.close()


async def test_bytes_http_does_not_allow_get_400_and_one_masked_warning(server: str) -> None:
    """aiohttp itself refuses the request; the server's log set-up turns aiohttp's
    traceback into one warning line that does not repeat the request's bytes."""
    from core.logs import setup_logging

    stream, root = io.StringIO(), logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO")
        root.handlers[0].setStream(stream)
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Phone: 6281234567890\x00\r\n\r\n"
        answer = await raw_request(server, head)
    finally:
        root.handlers[:], root.level = saved
    assert answer.split(b" ", 2)[1] == b"400"
    written = stream.getvalue()
    assert "refused a malformed HTTP request" in written and "WARNING" in written
    assert "Traceback" not in written and "ERROR" not in written
    assert "6281234567890" not in written


async def test_the_simulator_page_takes_odd_tokens_and_chunked_forms_as_any_bad_form(
    server: str, http: aiohttp.ClientSession, caplog
) -> None:
    """The phone page compared its token with compare_digest on str (a 500 for "é") and
    read a chunked body of any size; the shared form reader now refuses the latter."""
    async with http.get(server + "/simulator") as resp:
        assert resp.status == 200
    odd = b"csrf=%C3%A9&dialect=json&msisdn=6281200000001&text="
    async with http.post(server + "/simulator", data=odd, headers={"Content-Type": FORM}) as r:
        assert r.status == 403
        assert "<!doctype html>" in (await r.text()).lower()

    async def chunks():
        yield b"csrf=x&text="
        yield b"1" * 1000

    for path in ("/simulator", "/daftar/phone"):
        async with http.post(server + path, data=chunks(), headers={"Content-Type": FORM}) as r:
            assert r.status == 400, path
    no_tracebacks(caplog)
