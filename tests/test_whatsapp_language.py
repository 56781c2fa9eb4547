"""WhatsApp in the language of the keyword, and screens that name keywords, not *119#.

Over real HTTP as tests/test_whatsapp_journey.py: the development Graph API posts signed
webhooks to the server and the phone reads the answers there; the registry is the usual
one, but for Puskesmas Tebet (worker 900's site), which has no seats.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from registration import redis_import
from tests.keys import AllKeys
from tests.ussd_harness import facility_lines, last6, load_registry
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

TEBET_WORKER = "6281200000900"  # worker 900, whose site is Puskesmas Tebet


@pytest.fixture
async def server(sim: WaSim, redis, keys: AllKeys, key_prefix: str) -> AsyncIterator[Server]:
    await load_registry(redis, keys)
    no_seats = [line.replace("Jl. Tebet 1,2", "Jl. Tebet 1,0") for line in facility_lines()]
    report = await redis_import.import_facilities(redis, keys, no_seats)
    assert report.rows_bad == 0, report.errors
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


async def test_language_keywords_switch_and_help_names_them(phone: WaPhone) -> None:
    [english] = await phone.type("Inggris")
    assert body(english).startswith("Language: English.")
    assert "Send VACCINE to register, CHECK for status & ticket, CANCEL to cancel" in body(english)
    [help_reply] = await phone.type("hello, what is this?")  # unknown: help, in English
    assert "send VACCINE to register" in body(help_reply) and "INDONESIA" in body(help_reply)
    [indonesian] = await phone.type("INDONESIA")
    assert body(indonesian).startswith("Bahasa: Indonesia. Kirim VAKSIN untuk daftar")
    [question] = await phone.type("cancel")  # and an English keyword switches again
    assert body(question) == "Enter the last 6 digits of your NIK:"


async def test_a_site_without_seats_says_which_keyword_to_send_for_another(
    sim: WaSim, server: Server
) -> None:
    """It said "choose another site via *119#": not a way on from WhatsApp."""
    phone = WaPhone(sim, TEBET_WORKER)
    [question] = await phone.type("VACCINE")
    assert titles(question) == ["Yes", "No"]
    await phone.tap("Yes")
    [confirm] = await phone.type(last6(900))
    assert "Vaccination site: Puskesmas Tebet" in body(confirm)
    [reply] = await phone.tap("Correct, go on")
    while body(reply).startswith("("):  # the screening questions
        [reply] = await phone.tap("No")
    text = body(reply)
    assert "Puskesmas Tebet is fully booked" in text and "*119#" not in text
    assert "send VACCINE and choose another site" in text
