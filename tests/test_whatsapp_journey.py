"""WhatsApp registrations end to end over real HTTP: the development Graph API posts signed
webhooks to the server, the server answers through the Graph API, the phone reads them."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest

from core.privacy import mask_phone
from tests.ussd_harness import PHONE, last6
from tests.whatsapp_harness import (  # noqa: F401 (fixtures)
    Server,
    WaPhone,
    WaSim,
    body,
    phone_fixture,
    server_fixture,
    sim_fixture,
    titles,
)

CODE = re.compile(r"(?:Kode tiket|Ticket code): ([A-Z0-9]{6,})")


async def up_to_the_schedule(phone: WaPhone) -> dict:
    [question] = await phone.type("VAKSIN")
    assert "tenaga kesehatan" in body(question) and titles(question) == ["Ya", "Tidak"]
    [ask] = await phone.tap("Ya")
    assert ask["type"] == "text" and "6 digit terakhir NIK" in body(ask)
    [confirm] = await phone.type(last6(1))
    assert "Lokasi vaksin: Puskesmas Coblong" in body(confirm)
    [reply] = await phone.tap("Benar, lanjut")
    while body(reply).startswith("("):  # one screening question per group, as buttons
        assert titles(reply) == ["Ya", "Tidak"]
        [reply] = await phone.tap("Tidak")
    assert reply["interactive"]["type"] == "list" and "Pilih jadwal" in body(reply)
    return reply


async def test_a_whole_registration_ends_with_the_code_the_qr_image_and_the_video(
    phone: WaPhone, server: Server, sim: WaSim, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slots = await up_to_the_schedule(phone)
    [summary] = await phone.tap(titles(slots)[0])
    assert "Konfirmasi" in body(summary)
    image, done = await phone.tap("Ya, daftarkan", replies=2)
    code = CODE.search(body(done)).group(1)
    assert image["type"] == "image" and image["image"]["caption"] == code
    assert image["image"]["link"].endswith(f"/tickets/{code}.png")
    assert "Cara kerja vaksin: https://" in body(done) and done["text"]["preview_url"]
    assert "/tickets/" not in body(done)  # the QR came as the image
    everything = await sim.received(PHONE)
    assert not [m for m in everything if last6(1) in str(m)]  # never the NIK's digits
    assert (await sim.call("/control/stats"))["problems"] == []
    assert await phone.settle() == []  # nothing sent twice
    await phone.send_picture()  # something to log about this phone
    assert mask_phone(PHONE) in caplog.text  # masked
    assert PHONE not in caplog.text and last6(1) not in caplog.text


async def test_typed_answers_work_like_taps(phone: WaPhone) -> None:
    await phone.type("vaksin")
    [ask] = await phone.type("ya")  # YA typed instead of tapped
    assert "6 digit terakhir NIK" in body(ask)
    await phone.type(last6(1))
    [screening] = await phone.type("benar, lanjut")  # a button's title, typed
    assert body(screening).startswith("(1/")
    [second] = await phone.type("2")  # the number, as on USSD and SMS
    assert body(second).startswith("(2/")


async def test_a_notification_delivered_twice_is_answered_once(phone: WaPhone) -> None:
    [question] = await phone.type("VAKSIN", repeat=2)
    assert "tenaga kesehatan" in body(question)
    assert await phone.settle() == []
    [ask] = await phone.tap("Ya")  # and the dialogue went on by one step only
    assert "6 digit terakhir NIK" in body(ask)


async def test_meta_retrying_after_a_restart_gets_no_second_answer(
    phone: WaPhone, server: Server, sim: WaSim
) -> None:
    await phone.type("VAKSIN", id="wamid.RETRIED")
    await server.restart()
    await sim.call("/control/inject", {"from": PHONE, "text": "VAKSIN", "id": "wamid.RETRIED"})
    assert await phone.settle() == []


async def test_a_picture_gets_please_reply_with_text_and_the_dialogue_stays_put(
    phone: WaPhone,
) -> None:
    await phone.type("VAKSIN")
    [notice] = await phone.send_picture()
    assert "Mohon balas dengan teks" in body(notice) and "Please reply with text" in body(notice)
    [ask] = await phone.type("Ya")
    assert "6 digit terakhir NIK" in body(ask)


async def test_media_gets_one_nudge_per_interval_and_a_reaction_none(phone: WaPhone) -> None:
    """Every picture, voice note or reaction was answered: two bots could loop on it."""
    await phone.type("VAKSIN")
    [notice] = await phone.send_picture()
    assert "Please reply with text" in body(notice)
    shown = phone.seen
    for kind in ("audio", "sticker", "reaction"):
        await phone._send({"type": kind}, 0)
    await asyncio.sleep(0.5)
    assert len(await phone.sim.received(phone.msisdn)) == shown  # nothing more arrived
    [ask] = await phone.type("Ya")  # the dialogue is where it was
    assert "6 digit terakhir NIK" in body(ask)


async def test_an_old_button_is_answered_with_the_current_screen(phone: WaPhone) -> None:
    [question] = await phone.type("VAKSIN")
    await phone.tap("Ya")
    phone.last = [question]  # the user scrolls up and taps "Tidak" on the earlier question
    [again] = await phone.tap("Tidak")
    assert body(again).startswith("Pilihan salah.") and "6 digit terakhir NIK" in body(again)


async def test_a_long_list_is_paged_by_rows_and_every_page_can_be_picked(phone: WaPhone) -> None:
    await phone.type("VAKSIN")
    await phone.tap("Ya")
    await phone.type(last6(1))
    [first] = await phone.tap("Pilih lokasi lain")
    section = first["interactive"]["action"]["sections"][0]
    assert len(section["rows"]) == 10 and titles(first)[-2:] == ["Berikutnya", "Kembali"]
    assert section["title"] == "1/2"
    [second] = await phone.tap("Berikutnya")
    more = second["interactive"]["action"]["sections"][0]
    assert more["title"] == "2/2" and titles(second)[-1] == "Kembali"
    ids = [row["id"] for row in section["rows"][:-2] + more["rows"][:-1]]
    assert len(set(ids)) == len(ids) == 14  # every facility of the regency, once
    [screening] = await phone.tap("Rumah Sakit Umum Daerah")  # on the second page
    assert body(screening).startswith("(1/")


async def test_an_unknown_message_gets_help_that_works_on_whatsapp(phone: WaPhone) -> None:
    [help_reply] = await phone.type("halo, ini untuk apa?")
    # The keyword to send here, not an instruction to go and send an SMS.
    assert "kirim VAKSIN" in body(help_reply) and "SMS VAKSIN" not in body(help_reply)
    [question] = await phone.type("VAKSIN")  # and it works
    assert "tenaga kesehatan" in body(question)


async def test_a_button_id_with_digits_other_than_0_to_9_is_a_wrong_choice(
    phone: WaPhone,
) -> None:
    """Button and row ids come back from WhatsApp as we sent them, but a webhook is outside
    text: "worker_confirm.²" once ended the session with "busy" (int() refused "²")."""
    await phone.type("VAKSIN")
    await phone.tap("Ya")
    [confirm] = await phone.type(last6(1))
    [ids] = [[b["reply"]["id"] for b in confirm["interactive"]["action"]["buttons"]]]
    screen = ids[0].rpartition(".")[0]
    [again] = await phone.press(f"{screen}.²")
    assert body(again).startswith("Pilihan salah.") and "Lokasi vaksin" in body(again)


def test_a_webhook_with_odd_digits_is_read_not_refused() -> None:
    """A timestamp of "²" (which int() refuses) is read as now; a sender written in
    full-width digits is no phone number, so that message is skipped, not kept as one."""
    from devtools import wa_webhooks
    from whatsapp.webhook import parse_notification

    odd_time = {**wa_webhooks.message(PHONE, text="VAKSIN", message_id="m1"), "timestamp": "²"}
    full_width = wa_webhooks.message("６２８１２３４５６７８９０", text="VAKSIN", message_id="m2")
    notification = wa_webhooks.message_notification("123", odd_time)
    notification["entry"][0]["changes"][0]["value"]["messages"].append(full_width)
    events, skipped = parse_notification(json.dumps(notification).encode(), "123")
    [event] = events
    assert event.phone == PHONE and event.text == "VAKSIN" and event.timestamp > 1_700_000_000
    assert skipped == 1


def test_a_sender_too_short_or_too_long_for_a_phone_number_is_skipped() -> None:
    """A wa_id is an international number (7-15 digits): "0" or 16 digits is nobody to
    answer; a number from another country is still read (and answered)."""
    from devtools import wa_webhooks
    from whatsapp.webhook import parse_notification

    senders = ("0", "123456", "1" * 16, "447700900123")
    messages = [wa_webhooks.message(s, text="VAKSIN", message_id=f"m{s}") for s in senders]
    notification = wa_webhooks.message_notification("123", messages[0])
    notification["entry"][0]["changes"][0]["value"]["messages"] = messages
    events, skipped = parse_notification(json.dumps(notification).encode(), "123")
    assert [e.phone for e in events] == ["447700900123"] and skipped == 3
