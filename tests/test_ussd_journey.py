"""Whole *119# journeys over real HTTP against a running server and a real Redis."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from tests.ussd_harness import (
    HOUSEHOLD,
    PHONE,
    AtPhone,
    gateway_server,
    json_hop,
    last6,
    load_registry,
    nik,
)

CODE = re.compile(r"(?:Kode tiket|Ticket code): ([A-Z0-9]{6,})")


@pytest.fixture(name="server", params=["main", "gateway"])
async def server_fixture(request, config, redis, keys):
    """Every journey over the main port and over the lean gateway listener."""
    await load_registry(redis, keys)
    async with gateway_server(config, request.param) as base, aiohttp.ClientSession() as http:
        yield base, http


async def answer_screening(phone: AtPhone, screen: str) -> str:
    """Answer "no" to every screening question; returns the screen after the last one."""
    while re.match(r"\(\d+/\d+\)", screen):
        screen = await phone.send("2")
    return screen


async def register(phone: AtPhone, digits: str, slot: str = "1") -> str:
    await phone.dial()
    assert "tenaga kesehatan" in await phone.send("1")  # register: health worker?
    assert "6 digit terakhir NIK" in await phone.send("1")  # yes
    screen = await phone.send(digits)
    assert "Lokasi vaksin" in screen, screen
    screen = await answer_screening(phone, await phone.send("1"))
    assert "Pilih jadwal" in screen, screen
    assert "Konfirmasi" in await phone.send(slot)
    return await phone.send("1")


async def outbox(redis, keys) -> list[dict]:
    return [fields for _, fields in await redis.xrange(keys.sms_outbox())]


async def test_full_journey_africastalking_books_once_and_queues_one_sms(server, redis, keys):
    base, http = server
    phone = AtPhone(http, base, PHONE, "at-1")
    final = await register(phone, last6(1))
    assert phone.ended
    code = CODE.search(final).group(1)
    # The gateway did not get our answer and sends the confirming hop again.
    assert await phone.resend_last() == final
    assert await phone.resend_last() == final
    sms = await outbox(redis, keys)
    assert len(sms) == 1
    assert code in sms[0]["text"] and f"/tickets/{code}.png" in sms[0]["text"]
    assert sms[0]["to"] == PHONE
    assert await redis.hgetall(keys.booking(nik(1))), "the booking is stored"


async def test_check_status_and_resend_is_rate_limited(server, redis, keys):
    base, http = server
    final = await register(AtPhone(http, base, PHONE, "at-2"), last6(1))
    code = CODE.search(final).group(1)
    phone = AtPhone(http, base, PHONE, "at-3")
    await phone.dial()
    await phone.send("2")
    status = await phone.send(last6(1))
    assert code in status and "Kirim ulang" in status
    assert "dikirim ulang" in await phone.send("1")
    again = AtPhone(http, base, PHONE, "at-4")
    await again.dial()
    await again.send("2")
    await again.send(last6(1))
    assert "baru saja dikirim" in await again.send("1")
    kinds = [m["kind"] for m in await outbox(redis, keys)]
    assert kinds == ["ticket", "ticket_resend"]


async def test_cancel_releases_seat_and_ticket(server, redis, keys):
    base, http = server
    await register(AtPhone(http, base, PHONE, "at-5"), last6(1))
    phone = AtPhone(http, base, PHONE, "at-6")
    await phone.dial()
    await phone.send("3")
    assert "Ubah jadwal" in await phone.send(last6(1))
    assert "Batalkan jadwal" in await phone.send("2")
    assert "dibatalkan" in await phone.send("1")
    check = AtPhone(http, base, PHONE, "at-7")
    await check.dial()
    await check.send("2")
    assert "belum ada jadwal" in await check.send(last6(1))


async def test_household_phone_digits_pick_the_registrant(server):
    base, http = server
    first = await register(AtPhone(http, base, HOUSEHOLD, "hh-1"), last6(2))
    second = await register(AtPhone(http, base, HOUSEHOLD, "hh-2"), last6(3))
    assert CODE.search(first).group(1) != CODE.search(second).group(1)


async def test_wrong_digits_count_down_then_lock(server):
    base, http = server
    phone = AtPhone(http, base, PHONE, "lock-1")
    await phone.dial()
    await phone.send("1")
    await phone.send("1")
    assert "Harus 6 angka" in await phone.send("12")
    assert "Sisa 2 kali" in await phone.send("000000")
    assert "Sisa 1 kali" in await phone.send("000001")
    locked = await phone.send("000002")
    assert phone.ended and "coba lagi setelah pukul" in locked


async def test_phone_not_on_list_is_told_how_to_get_listed(server):
    base, http = server
    phone = AtPhone(http, base, "6281999999999", "nl-1")
    await phone.dial()
    await phone.send("1")
    await phone.send("1")
    screen = await phone.send("123456")
    assert phone.ended and "SISDMK" in screen
    assert "@" in screen, "the not-listed screen must show the e-mail address to write to"


async def test_not_a_health_worker_ends_with_explanation(server):
    base, http = server
    phone = AtPhone(http, base, PHONE, "nhw-1")
    await phone.dial()
    await phone.send("1")
    assert "hanya untuk tenaga kesehatan" in await phone.send("2")
    assert phone.ended


async def test_resume_after_a_drop(server):
    base, http = server
    phone = AtPhone(http, base, PHONE, "drop-1")
    await phone.dial()
    await phone.send("1")
    await phone.send("1")
    await phone.send(last6(1))
    question = await phone.send("1")
    assert question.startswith("(1/")
    await phone.send("2")  # dropped after the first screening answer
    again = AtPhone(http, base, PHONE, "drop-2")
    assert "belum selesai" in await again.dial()
    assert (await again.send("1")).startswith("(2/")
    # Start over is offered too, and really starts over.
    third = AtPhone(http, base, PHONE, "drop-3")
    assert "belum selesai" in await third.dial()
    assert "Daftar vaksinasi" in await third.send("2")


async def test_back_main_menu_paging_and_invalid_choice(server):
    base, http = server
    phone = AtPhone(http, base, PHONE, "nav-1")
    await phone.dial()
    assert "Pilihan salah" in await phone.send("7")
    await phone.send("1")
    assert "Daftar vaksinasi" in await phone.send("0")  # back to the main menu
    await phone.send("1")
    await phone.send("1")
    await phone.send(last6(1))
    first = await phone.send("2")  # choose another site: a paged list
    assert "98. Berikutnya" in first and "1. " in first
    second = await phone.send("98")
    assert second != first and "0. Kembali" in second
    assert await phone.send("0") == first  # back = previous page
    assert "Daftar vaksinasi" in await phone.send("00")


async def test_back_goes_through_the_screening_questions_and_out(server):
    base, http = server
    phone = AtPhone(http, base, PHONE, "nav-screening")
    await phone.dial()
    await phone.send("1")
    await phone.send("1")
    assert "Lokasi vaksin" in await phone.send(last6(1))
    assert (await phone.send("1")).startswith("(1/")
    for _ in range(2):
        assert (await phone.send("2")).startswith("(2/")
        assert (await phone.send("0")).startswith("(1/")
    assert "Lokasi vaksin" in await phone.send("0")  # out of the screening at once


async def test_expired_session_mid_journey_gets_polite_end(server):
    base, http = server
    phone = AtPhone(http, base, PHONE, "never-seen")
    phone.inputs = ["1", "1"]
    ended, screen = await phone.post("1*1*123456")
    assert ended and "sudah berakhir" in screen


async def test_language_is_remembered_per_phone(server):
    base, http = server
    phone = AtPhone(http, base, PHONE, "lang-1")
    await phone.dial()
    await phone.send("4")
    assert "Register" in await phone.send("2")
    later = AtPhone(http, base, PHONE, "lang-2")
    assert "1. Register" in await later.dial()


async def test_unknown_service_code_gets_end_screen(server):
    base, http = server
    form = {"sessionId": "x1", "serviceCode": "*500#", "phoneNumber": "+" + PHONE, "text": ""}
    async with http.post(f"{base}/ussd/africastalking", data=form) as resp:
        assert resp.status == 200
        assert (await resp.text()).startswith("END Kode layanan tidak dikenal")
    form["serviceCode"] = "119"  # the same code written without * and #
    async with http.post(f"{base}/ussd/africastalking", data=form) as resp:
        assert (await resp.text()).startswith("CON Vaksin")


async def test_africastalking_end_event_closes_session(server, redis, keys):
    base, http = server
    phone = AtPhone(http, base, PHONE, "ev-1")
    await phone.dial()
    await phone.send("1")
    event = {"sessionId": "ev-1", "status": "Incomplete", "phoneNumber": "+" + PHONE}
    async with http.post(f"{base}/ussd/africastalking/events", data=event) as resp:
        assert resp.status == 200
    assert await redis.hget(keys.ussd_outcomes(), "africastalking:Incomplete") == "1"
    ended, screen = await phone.post("1*1")
    assert ended and "sudah berakhir" in screen


async def test_full_journey_hubtel(server, redis, keys):
    base, http = server
    seq = 0

    async def hop(kind: str, message: str) -> dict:
        nonlocal seq
        seq += 1
        body = {
            "Type": kind,
            "Message": message,
            "Mobile": "+" + PHONE,
            "SessionId": "hb-1",
            "ServiceCode": "*119#",
            "Operator": "telkomsel",
            "Sequence": seq,
        }
        async with http.post(f"{base}/ussd/hubtel", json=body) as resp:
            assert resp.status == 200
            return await resp.json()

    assert "Daftar" in (await hop("Initiation", "*119#"))["Message"]
    for value in ("1", "1", last6(1), "1"):
        reply = await hop("Response", value)
    while reply["Message"].startswith("("):
        reply = await hop("Response", "2")
    await hop("Response", "1")
    final = await hop("Response", "1")
    assert final["Type"] == "Release" and CODE.search(final["Message"])
    # Retransmission of the same Sequence: same reply, nothing booked twice.
    seq -= 1
    assert await hop("Response", "1") == final
    assert len(await outbox(redis, keys)) == 1


async def test_full_journey_json_with_duplicate_new_session(server, redis, keys):
    base, http = server
    first = await json_hop(http, base, "js-1", PHONE, new=True, hop=0)
    assert await json_hop(http, base, "js-1", PHONE, new=True, hop=0) == first
    hop, reply = 0, first
    for value in ("1", "1", last6(1), "1"):
        hop += 1
        reply = await json_hop(http, base, "js-1", PHONE, value, hop=hop)
    while reply["text"].startswith("("):
        hop += 1
        reply = await json_hop(http, base, "js-1", PHONE, "2", hop=hop)
    reply = await json_hop(http, base, "js-1", PHONE, "1", hop=hop + 1)
    final = await json_hop(http, base, "js-1", PHONE, "1", hop=hop + 2)
    assert final["end"] is True and CODE.search(final["text"])
    assert await json_hop(http, base, "js-1", PHONE, "1", hop=hop + 2) == final
    assert len(await outbox(redis, keys)) == 1


async def test_hundred_concurrent_sessions_each_get_their_own_ticket(server, redis, keys):
    base, http = server
    phones = [AtPhone(http, base, f"62813{i:08d}", f"c-{i}") for i in range(100)]
    finals = await asyncio.gather(
        *(register(p, last6(1000 + i), slot=str(1 + i % 3)) for i, p in enumerate(phones))
    )
    codes = {CODE.search(f).group(1) for f in finals}
    assert len(codes) == 100
    assert len(await outbox(redis, keys)) == 100
