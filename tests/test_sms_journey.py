"""Two-way SMS registration end to end: simulator process -> SMPP -> SMS service ->
dialogue engine -> registry -> replies and the ticket SMS back through the simulator."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from smpp import codec, concat
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_smpp_support import Sim, sim_fixture, smpp_overrides, sms_channel  # noqa: F401
from tests.ussd_harness import PHONE, last6, load_registry, nik
from ussd_server.context import AppContext


class Phone:
    """A person texting 1199 through the simulator (`ctx`: the server it reaches)."""

    def __init__(self, sim: Sim, msisdn: str, ctx: AppContext | None = None) -> None:
        self.sim, self.msisdn, self.seen, self.ctx = sim, msisdn, 0, ctx

    async def inbox(self) -> tuple[list[str], list[str]]:
        data = await self.sim.call(f"/messages?to={self.msisdn}")
        return data["messages"], data["senders"]

    async def send(
        self, text: str, *, replies: int = 1, settle: float = 0.0, mode: str = "udh"
    ) -> list[str]:
        body = {"from": self.msisdn, "to": "1199", "text": text, "mode": mode}
        await self.sim.call("/inject", body)
        for _ in range(200):
            messages, _ = await self.inbox()
            if len(messages) >= self.seen + replies:
                break
            await asyncio.sleep(0.05)
        if settle:
            await asyncio.sleep(settle)
            messages, _ = await self.inbox()
        new, self.seen = messages[self.seen :], len(messages)
        return new


@pytest.fixture
async def phone(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> AsyncIterator[Phone]:
    await load_registry(redis, keys)
    async with sms_channel(make_test_config(key_prefix, **smpp_overrides(sim))) as (_, ctx):
        yield Phone(sim, PHONE, ctx)


async def test_vaksin_by_sms_ends_with_the_ticket(phone: Phone) -> None:
    [first] = await phone.send("  vaksin! ")
    assert "Balas YA atau TIDAK" in first
    [ask] = await phone.send("Ya")
    assert "6 digit terakhir NIK" in ask
    [confirm] = await phone.send(last6(1))
    assert "Balas 1 untuk" in confirm
    [reply] = await phone.send("1")
    while re.match(r"\(\d+/\d+\)", reply):  # the screening screens
        [reply] = await phone.send("tidak")
    [summary] = await phone.send("1")  # the first facility
    assert "Konfirmasi" in summary
    final = await phone.send("1", replies=2)  # the final reply and the ticket SMS
    done = next(m for m in final if "Kode tiket" in m)
    code = re.search(r"Kode tiket: (\w+)", done).group(1)
    # The final reply itself carries the QR link and the vaccine video.
    assert f"/tickets/{code}.png" in done and "Cara kerja vaksin: http" in done
    messages, senders = await phone.inbox()
    ticket_sms = [t for t, s in zip(messages, senders, strict=True) if s == "PEDULICOVID"]
    assert len(ticket_sms) == 1 and code in ticket_sms[0]
    assert "http" in ticket_sms[0]  # the link to the QR image
    assert senders[0] == "1199"  # replies come from the service number


async def test_unknown_text_gets_one_help_reply_per_interval(phone: Phone) -> None:
    first = await phone.send("halo apa kabar")
    assert len(first) == 1 and "VAKSIN" in first[0]
    second = await phone.send("halo lagi", replies=0, settle=1.0)
    assert second == []  # an auto-responder cannot make us loop
    [help_text] = await phone.send("BANTUAN")  # a keyword is always answered
    assert "VAKSIN" in help_text


async def test_a_torn_concatenation_header_is_refused_for_good_and_texting_goes_on(
    phone: Phone, sim: Sim, caplog: pytest.LogCaptureFixture
) -> None:
    """A UDH whose concatenation element claims 3 octets with 2 left once raised an
    IndexError: a traceback, and a *temporary* error the SMSC would retry forever."""
    torn = codec.build_submit_sm(
        901, source=PHONE, source_ton=1, source_npi=1, destination="1199",
        esm_class=concat.ESM_UDHI, short_message=b"\x04\x00\x03\x07\x02halo",
        command_id=codec.DELIVER_SM,
    )  # fmt: skip
    await sim.call("/raw", {"hex": torn.hex()})
    [reply] = await phone.send("VAKSIN")  # the bind lives on
    assert "Balas YA atau TIDAK" in reply
    stats = await sim.call("/stats")
    assert stats["deliver_resp"].get(str(codec.ESME_RX_P_APPN)) == 1  # permanent: not retried
    assert str(codec.ESME_RX_T_APPN) not in stats["deliver_resp"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("mode", ["udh", "sar"])
async def test_long_multipart_message_is_reassembled_before_the_dialogue(
    phone: Phone, redis: aioredis.Redis, keys: AllKeys, mode: str
) -> None:
    # Two parts, answered once (as one unknown text: the help reply).
    [help_reply] = await phone.send("halo " * 40, mode=mode, settle=0.5)
    assert "VAKSIN" in help_reply
    assert int(await redis.hget(keys.sms_stats(), "mo")) == 1
    [reply] = await phone.send("VAKSIN")
    assert "Balas YA atau TIDAK" in reply


def data_sm(sequence: int, source: str, text: bytes) -> bytes:
    """A data_sm MO as SMSCs send it: no short_message, the text in message_payload."""
    body = (
        b"\x00" + bytes((1, 1)) + source.encode() + b"\x00" + bytes((0, 0)) + b"1199\x00"
        + bytes((0, 0, 0)) + codec.tlv(codec.TLV_MESSAGE_PAYLOAD, text)
    )  # fmt: skip
    return codec.HEADER.pack(16 + len(body), codec.DATA_SM, 0, sequence) + body


async def test_an_sms_sent_as_data_sm_is_answered(phone: Phone, sim: Sim) -> None:
    """data_sm was parsed as a deliver_sm: refused for good, the message lost."""
    await sim.call("/raw", {"hex": data_sm(902, PHONE, b"VAKSIN").hex()})
    for _ in range(100):
        messages, _ = await phone.inbox()
        if messages:
            break
        await asyncio.sleep(0.05)
    assert len(messages) == 1 and "Balas YA atau TIDAK" in messages[0]
    stats = await sim.call("/stats")
    assert stats["deliver_resp"] == {"0": 1}


async def test_an_sms_from_no_mobile_number_is_refused_and_not_answered(
    phone: Phone, sim: Sim, redis: aioredis.Redis, keys: AllKeys
) -> None:
    """An empty, alphanumeric, short or overlong sender once ran the dialogue: a reply
    queued to "", a 60-digit destination_addr, an opt-out recorded for a name."""
    for n, source in enumerate(("", "BANK628123456789", "81234567")):
        mo = codec.build_submit_sm(
            910 + n, source=source, source_ton=1, source_npi=1, destination="1199",
            short_message=b"STOP", command_id=codec.DELIVER_SM,
        )  # fmt: skip
        await sim.call("/raw", {"hex": mo.hex()})
    await sim.call("/raw", {"hex": data_sm(913, "6" * 60, b"VAKSIN").hex()})  # 65 allowed
    [reply] = await phone.send("VAKSIN")  # texting goes on
    assert "Balas YA atau TIDAK" in reply
    stats = await sim.call("/stats")
    assert stats["deliver_resp"].get(str(codec.ESME_RINVSRCADR)) == 4
    assert (await sim.call("/stats"))["submits"] == 1  # the one reply to PHONE
    assert await redis.hget(keys.sms_stats(), "mo") == "1"
    assert await redis.scard(keys.sms_optouts()) == 0


async def test_an_english_keyword_is_answered_in_english_and_an_indonesian_one_switches_back(
    phone: Phone,
) -> None:
    """VACCINE, CHECK, CANCEL and HELP were answered in Indonesian unless English had been
    chosen on *119# menu 4: the keyword's language is the conversation's and the phone's."""
    [ask] = await phone.send("vaccine")
    assert "Are you a health worker?" in ask and "Reply YES or NO" in ask
    [nik_ask] = await phone.send("yes")
    assert "Enter the last 6 digits of your NIK" in nik_ask
    [help_text] = await phone.send("HELP")
    assert "send VACCINE to register" in help_text and "kirim INDONESIA" in help_text
    [stopped] = await phone.send("STOP")  # the phone's language, not only this conversation's
    assert "You will get no more PEDULICOVID information SMS" in stopped
    [ask] = await phone.send("VAKSIN")
    assert "Apakah Anda tenaga kesehatan" in ask and "Balas YA atau TIDAK" in ask
    [started] = await phone.send("MULAI")
    assert "Anda akan menerima SMS informasi PEDULICOVID lagi" in started


async def test_language_keywords_switch_and_say_what_to_send_next(phone: Phone) -> None:
    [english] = await phone.send("English")
    assert english.startswith("Language: English.") and "Send VACCINE to register" in english
    [help_text] = await phone.send("what is this")  # unknown text: help, now in English
    assert "send VACCINE to register, CHECK for status & ticket" in help_text
    [indonesian] = await phone.send("bahasa")
    assert indonesian.startswith("Bahasa: Indonesia.") and "Kirim VAKSIN untuk daftar" in indonesian
    [bantuan] = await phone.send("BANTUAN")
    assert "kirim VAKSIN untuk daftar" in bantuan and "For English send ENGLISH" in bantuan


async def to_confirmation(phone: Phone, word: str) -> str:
    """Register by SMS up to "Confirm" with the first time offered; that reply."""
    await phone.send(word)
    await phone.send("YA")
    await phone.send(last6(1))
    [reply] = await phone.send("1")
    while re.match(r"\(\d+/\d+\)", reply):  # the screening questions
        [reply] = await phone.send("TIDAK")
    [summary] = await phone.send("1")
    return summary


async def test_a_cancellation_by_sms_says_which_keyword_registers_again(phone: Phone) -> None:
    """It said "Daftar lagi lewat *119#": not from a phone that is texting 1199."""
    assert "Konfirmasi" in await to_confirmation(phone, "VAKSIN")
    await phone.send("1", replies=2)  # booked: the reply and the ticket SMS
    await phone.send("BATAL")
    [ask] = await phone.send(last6(1))
    assert "Balas YA atau TIDAK" in ask
    [cancelled] = await phone.send("YA")
    assert "Jadwal dibatalkan" in cancelled and "Untuk daftar lagi, kirim VAKSIN." in cancelled
    assert "*119#" not in cancelled


async def test_a_booking_made_elsewhere_meanwhile_names_the_keywords_to_change_it(
    phone: Phone,
) -> None:
    """It said "Change it in menu 3": SMS has no menu 3."""
    assert "Confirm:" in await to_confirmation(phone, "VACCINE")
    ctx = phone.ctx
    assert ctx is not None
    slots = await ctx.registry.available_slots("F001", nik=nik(1))
    other = slots[1]  # another time than the first, taken on another channel meanwhile
    booked = await ctx.registry.book(nik(1), "F001", other.day, other.session_id)
    [already] = await phone.send("1")
    assert "You already have a booking" in already and booked.ticket.code in already
    assert "To change it send CHECK, to cancel it send CANCEL." in already
    assert "menu 3" not in already
