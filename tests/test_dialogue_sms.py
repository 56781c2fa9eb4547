"""The same dialogue over two-way SMS (engine level, Channel.SMS, real Redis and Registry)."""

from __future__ import annotations

import re

import pytest

from dialogue.model import Channel, Inbound, Outbound, SessionEvent
from tests.ussd_harness import PHONE, last6, load_registry


@pytest.fixture
async def sms(context, redis, keys):
    await load_registry(redis, keys)
    engine = context.engine

    async def send(text: str, phone: str = PHONE) -> Outbound:
        inbound = Inbound(Channel.SMS, "smpp", phone, phone, "1199", SessionEvent.CONTINUE, text)
        return await engine.handle(inbound)

    return send


async def test_register_check_and_cancel_by_sms(sms, redis, keys):
    first = await sms("  vaksin! ")
    assert "Balas YA atau TIDAK" in first.text and not first.end
    assert "6 digit terakhir NIK" in (await sms("Ya")).text
    confirm = await sms(last6(1)[:3] + " " + last6(1)[3:])  # spaces are fine
    assert "Balas 1 untuk Benar, lanjut" in confirm.text
    reply = await sms("1")
    while re.match(r"\(\d+/\d+\)", reply.text):
        assert "Balas YA atau TIDAK" in reply.text
        reply = await sms("tidak")
    # The schedule comes a page at a time, each reply within two SMS segments.
    assert "Balas 1 untuk " in reply.text and "Balas 98 untuk pilihan lain" in reply.text
    following = await sms("98")
    first_on_next = int(re.search(r"^Balas (\d+) untuk", following.text, re.M).group(1))
    assert first_on_next > 1 and f"Balas {first_on_next - 1} untuk" not in following.text
    assert "Konfirmasi" in (await sms(str(first_on_next))).text
    done = await sms("1")
    assert done.end and "Kode tiket: " in done.text
    code = re.search(r"Kode tiket: (\w+)", done.text).group(1)
    assert f"/tickets/{code}.png" in done.text and "Cara kerja vaksin: http" in done.text
    assert len(await redis.xrange(keys.sms_outbox())) == 1

    await sms("CEK")
    status = await sms(last6(1))
    assert code in status.text and "Balas 1 untuk Kirim ulang SMS tiket" in status.text
    assert f"/tickets/{code}.png" in status.text

    await sms("batal")
    ask = await sms(last6(1))
    assert "Balas YA atau TIDAK" in ask.text
    cancelled = await sms("y")
    assert cancelled.end and code in cancelled.text and "dibatalkan" in cancelled.text


async def test_unknown_text_outside_session_gets_help_as_fallback(sms):
    reply = await sms("halo apa kabar")
    assert reply.fallback and reply.end and "VAKSIN" in reply.text
    help_reply = await sms("BANTUAN")
    assert not help_reply.fallback and "VAKSIN" in help_reply.text


async def test_english_sms_and_yes_no_words(sms):
    first = await sms("Vaccine")
    assert "Reply YES or NO" in first.text
    assert "last 6 digits" in (await sms("YES")).text
    wrong = await sms("12")
    assert "Must be 6 digits" in wrong.text and not wrong.end


async def test_invalid_answer_keeps_the_session(sms):
    await sms("VAKSIN")
    again = await sms("mungkin")
    assert "Pilihan salah" in again.text and "Balas YA atau TIDAK" in again.text
    assert "NIK" in (await sms("1")).text


async def test_whatsapp_is_a_message_channel_with_its_own_conversation(sms, context):
    """Channel.WHATSAPP: keywords, one session per phone apart from SMS's, its own layout."""
    from whatsapp.render import WhatsAppLayout

    async def whatsapp(text: str = "", choice: str = "", phone: str = PHONE) -> Outbound:
        inbound = Inbound(
            Channel.WHATSAPP, "whatsapp", phone, phone, "whatsapp", SessionEvent.CONTINUE,
            text, choice=choice,
        )  # fmt: skip
        return await context.engine.handle(inbound, layout=WhatsAppLayout())

    await sms("VAKSIN")  # an SMS conversation at the yes/no question
    question = await whatsapp("vaksin")
    assert question.view.screen_id == "hw_confirm" and not question.end
    ask = await whatsapp(choice="hw_confirm.yes")
    assert ask.view.screen_id == "nik"
    assert "6 digit terakhir NIK" in (await sms("ya")).text  # SMS went on from where it was
    wrong = await whatsapp("halo")  # inside the conversation: an answer, checked
    assert wrong.view.screen_id == "nik" and wrong.view.error == "Harus 6 angka."
    stranger = await whatsapp("halo", phone="6281299999999")  # outside any: help, flagged
    assert stranger.fallback and stranger.view.screen_id == "help"
