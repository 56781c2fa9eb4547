"""One user action sent twice at the same moment costs one NIK try, over real HTTP.

A double tap on the website's "Lanjut" posts the same form (same token, same hop)
twice; a gateway retransmits a hop while the first copy is still being answered,
and another worker takes it. Both copies read the session before either saves it:
a wrong NIK typed once used to count as two tries ("Sisa 1 kali"), and the second
mistake locked the phone for an hour.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.test_web_forms import client, registry, sign_in  # noqa: F401
from tests.ussd_harness import PHONE, AtPhone, gateway_server, last6, load_registry

COPIES = 3
WRONG = "000000"


@pytest.fixture(name="server", params=["main", "gateway"])
async def server_fixture(request, config, redis, keys):
    await load_registry(redis, keys)
    async with gateway_server(config, request.param) as base, aiohttp.ClientSession() as http:
        yield base, http


async def test_a_retransmitted_wrong_nik_hop_costs_one_try(server) -> None:
    base, http = server
    assert last6(1) != WRONG
    phone = AtPhone(http, base, PHONE, "dup-at-1")
    await phone.dial()
    await phone.send("1")
    assert "6 digit terakhir NIK" in await phone.send("1")
    phone.inputs.append(WRONG)
    text = "*".join(phone.inputs)
    copies = await asyncio.gather(*(phone.post(text) for _ in range(COPIES)))
    assert [screen for _, screen in copies] == [copies[0][1]] * COPIES
    assert "Sisa 2 kali" in copies[0][1], copies
    # The user's second mistake: one try left, not locked.
    assert "Sisa 1 kali" in await phone.send("000001")


async def test_a_double_tapped_wrong_nik_form_costs_one_try(
    registry,  # noqa: F811
    redis,
    keys,
    key_prefix,
) -> None:
    async with client(key_prefix) as visitor:
        await sign_in(visitor, redis, keys)
        taps = [visitor.post("/daftar/answer", text=WRONG) for _ in range(COPIES)]
        assert await asyncio.gather(*taps) == [303] * COPIES
        await visitor.get()
        assert "Sisa 2 kali" in visitor.page
        assert await visitor.post("/daftar/answer", text="000001") == 303
        assert "Sisa 1 kali" in visitor.page
