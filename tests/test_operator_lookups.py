"""Operator API lookups of one registrant: the NIK and phone forms they take, and how a
lookup is logged (docs/operator.md, docs/privacy.md)."""

from __future__ import annotations

import logging

import aiohttp

from tests.test_operator_api import (  # noqa: F401  (fixtures)
    TOKEN,
    http_fixture,
    load,
    server_fixture,
)
from tests.ussd_harness import PHONE, nik


async def test_a_nik_is_found_in_the_forms_the_import_takes_and_a_bad_one_gets_400(
    server: str, http: aiohttp.ClientSession
) -> None:
    await load(http, server)
    n, url = nik(1), f"{server}/api/registrants"
    for typed in (n, f"{n[:4]}-{n[4:8]}-{n[8:12]}-{n[12:]}", f"{n[:6]} {n[6:12]} {n[12:]}"):
        async with http.get(url, params={"nik": typed}, headers=TOKEN) as resp:
            assert resp.status == 200, typed
            [status] = (await resp.json())["registrants"]
        assert status["worker"]["nik"] == n[:4] + "*" * 12
    async with http.get(url, params={"nik": "3273-0101"}, headers=TOKEN) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "nik: NIK must be 16 digits"


async def test_a_phone_lookup_is_logged_masked_as_documented_however_typed(
    server: str, http: aiohttp.ClientSession, caplog
) -> None:
    """docs/privacy.md: 62812*****890; typed 0812... the log showed one digit more."""
    await load(http, server)
    with caplog.at_level(logging.INFO, logger="ussd_server.operator_api"):
        for typed in ("0" + PHONE[2:], PHONE, "+" + PHONE):
            params = {"phone": typed}
            async with http.get(f"{server}/api/registrants", params=params, headers=TOKEN) as r:
                assert r.status == 200
    logged = [r.getMessage() for r in caplog.records if "status lookup" in r.getMessage()]
    assert len(logged) == 3
    for message in logged:
        assert f"lookup for {PHONE[:5]}*****{PHONE[-3:]}:" in message, message
