"""WhatsApp in the language of the keyword.

Over real HTTP as tests/test_whatsapp_journey.py: the development Graph API posts signed
webhooks to the server and the phone reads the answers there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.keys import AllKeys
from tests.ussd_harness import last6, load_registry
from tests.whatsapp_harness import (  # noqa: F401 (fixtures)
    TEMPLATE,
    Server,
    WaPhone,
    WaSim,
    body,
    sim_fixture,
    titles,
    whatsapp_config,
    whatsapp_server,
)


@pytest.fixture
async def server(sim: WaSim, redis, keys: AllKeys, key_prefix: str) -> AsyncIterator[Server]:
    await load_registry(redis, keys)
    async with whatsapp_server(whatsapp_config(key_prefix, sim, **TEMPLATE), sim) as running:
        yield running


@pytest.fixture
def phone(sim: WaSim, server: Server) -> WaPhone:
    return WaPhone(sim, "6281200000001")


async def test_english_keywords_are_answered_in_english_until_an_indonesian_one(
    phone: WaPhone,
) -> None:
    """CHECK was answered "Masukkan 6 digit terakhir NIK Anda" unless English had been
    chosen on *119# menu 4."""
    [ask] = await phone.type("check")
    assert body(ask) == "Enter the last 6 digits of your NIK:"
    [status] = await phone.type(last6(1))
    assert "no vaccination booked yet" in body(status) and titles(status) == ["Register now"]
    [question] = await phone.type("VAKSIN")
    assert "Apakah Anda tenaga kesehatan" in body(question) and titles(question) == ["Ya", "Tidak"]
