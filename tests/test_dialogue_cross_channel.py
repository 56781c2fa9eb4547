"""One registration over two channels: a USSD dial dropped half way, then SMS, then USSD.

Engine level on real Redis (the Registry and the session store of the server): the
resume offer of the dropped dial must give way to what happened since on SMS.
"""

from __future__ import annotations

import re

import pytest

from dialogue.model import Channel, Inbound, Outbound, SessionEvent
from tests.dialogue_harness import Handset
from tests.ussd_harness import PHONE, last6, load_registry, nik

CODE = re.compile(r"Kode tiket: (\w+)")


@pytest.fixture
async def engine(context, redis, keys):
    await load_registry(redis, keys)
    return context.engine


async def by_sms(engine, text: str) -> Outbound:
    inbound = Inbound(Channel.SMS, "smpp", PHONE, PHONE, "1199", SessionEvent.CONTINUE, text)
    return await engine.handle(inbound)


async def dropped_at_question_2(engine) -> None:
    """Dial *119#, register, answer screening question 1 "no", and go away."""
    phone = Handset(engine, PHONE, "first-dial")
    await phone.dial()
    for answer in ("1", "1", last6(1), "1"):
        await phone.send(answer)
    assert (await phone.send("2")).text.startswith("(2/")
    await phone.hang_up()


async def booked_by_sms(engine) -> str:
    await by_sms(engine, "VAKSIN")
    await by_sms(engine, "YA")
    await by_sms(engine, last6(1))
    reply = await by_sms(engine, "1")
    while re.match(r"\(\d+/\d+\)", reply.text):
        reply = await by_sms(engine, "TIDAK")
    assert "Konfirmasi" in (await by_sms(engine, "1")).text
    return CODE.search((await by_sms(engine, "1")).text).group(1)


async def test_a_booking_by_sms_replaces_the_offer_to_continue_on_ussd(engine, context):
    """The next dial used to offer "Pendaftaran Anda belum selesai"; continuing and answering
    "Ya" then said "Belum dapat divaksin" and stored that, under an active SMS ticket."""
    await dropped_at_question_2(engine)
    code = await booked_by_sms(engine)
    again = Handset(engine, PHONE, "second-dial")
    shown = await again.dial()
    assert "belum selesai" not in shown.text
    assert code in shown.text and "aktif" in shown.text  # the status of the booking
    third = Handset(engine, PHONE, "third-dial")
    assert "Daftar vaksinasi" in (await third.dial()).text  # the stale offer is gone
    status = await context.registry.status_by_nik(nik(1))
    assert status.ticket.code == code and status.ticket.state.value == "active"
    assert status.screening.outcome.value == "eligible"


async def test_continuing_an_offer_made_before_the_booking_shows_the_booking(engine, context):
    """The offer was on screen while the SMS booking went through: "Lanjutkan" re-checks."""
    await dropped_at_question_2(engine)
    again = Handset(engine, PHONE, "second-dial")
    assert "belum selesai" in (await again.dial()).text
    code = await booked_by_sms(engine)
    shown = await again.send("1")  # Lanjutkan
    assert not shown.text.startswith("(2/") and code in shown.text and "aktif" in shown.text
    status = await context.registry.status_by_nik(nik(1))
    assert status.ticket.state.value == "active" and status.screening.outcome.value == "eligible"


async def test_a_question_answered_after_a_booking_elsewhere_shows_the_booking(engine, context):
    """A USSD session still open at question 2 when the SMS booking is made: its "Ya" used
    to store "not eligible" under the active ticket."""
    phone = Handset(engine, PHONE, "open-dial")
    await phone.dial()
    for answer in ("1", "1", last6(1), "1"):
        await phone.send(answer)
    assert (await phone.send("2")).text.startswith("(2/")
    code = await booked_by_sms(engine)
    shown = await phone.send("1")  # "Ya" to question 2
    assert "Belum dapat divaksin" not in shown.text and code in shown.text
    status = await context.registry.status_by_nik(nik(1))
    assert status.ticket.state.value == "active" and status.screening.outcome.value == "eligible"
    await phone.hang_up()
    assert "Daftar vaksinasi" in (await Handset(engine, PHONE, "next-dial").dial()).text


async def test_a_keyword_sets_the_language_of_the_next_dial(engine):
    """An SMS or WhatsApp keyword chooses the phone's language as *119# menu 4 does."""
    assert "Reply YES or NO" in (await by_sms(engine, "Vaccine")).text
    assert "1. Register" in (await Handset(engine, PHONE, "after-vaccine").dial()).text
    assert "Balas YA atau TIDAK" in (await by_sms(engine, "VAKSIN")).text
    assert "1. Daftar vaksinasi" in (await Handset(engine, PHONE, "after-vaksin").dial()).text
    assert "Language: English." in (await by_sms(engine, "english")).text
    assert "1. Register" in (await Handset(engine, PHONE, "after-english").dial()).text
