"""An operator moves a health worker to a new phone while the old phone's conversations
are still open: the old phone re-sends, moves and cancels nothing from then on.

Engine level on real Redis. An SMS conversation lives a day and a USSD session five
minutes, each holding the NIK its phone verified; the re-import is the operator's
(the same import as ``POST /api/health-workers``).
"""

from __future__ import annotations

import pytest

from dialogue.engine import Engine
from dialogue.model import Channel, Inbound, Outbound, SessionEvent
from registration import redis_import
from registration.models import Ticket, TicketState
from registration.service import Registry
from tests.dialogue_harness import Handset
from tests.ussd_harness import PHONE, last6, load_registry, nik, worker_lines

NEW_PHONE = "6281299990001"
ENDED = "tidak lagi terdaftar dengan nomor ini"


@pytest.fixture
async def engine(context, redis, keys) -> Engine:
    await load_registry(redis, keys)
    return context.engine


async def booked(registry: Registry) -> Ticket:
    no = {g.group_id: False for g in registry.screening_groups()}
    await registry.record_screening(nik(1), no)
    first = (await registry.available_slots("F001", nik=nik(1)))[0]
    result = await registry.book(nik(1), "F001", first.day, first.session_id)
    assert result.ticket is not None
    return result.ticket


async def relisted(redis, keys) -> None:
    """The operator imports the worker's row again, with the new phone."""
    report = await redis_import.import_health_workers(redis, keys, worker_lines({1: NEW_PHONE}))
    assert report.rows_bad == 0, report.errors


async def by_sms(engine: Engine, text: str, msisdn: str = PHONE) -> Outbound:
    inbound = Inbound(Channel.SMS, "smpp", msisdn, msisdn, "1199", SessionEvent.CONTINUE, text)
    return await engine.handle(inbound)


async def dialled(engine: Engine, session_id: str, *answers: str) -> Handset:
    """The old phone dials *119# and answers, leaving the session open."""
    phone = Handset(engine, PHONE, session_id)
    await phone.dial()
    for answer in answers:
        await phone.send(answer)
    return phone


async def still_booked(registry: Registry, ticket: Ticket) -> None:
    status = await registry.status_by_nik(nik(1))
    assert status is not None and status.ticket == ticket and ticket.state is TicketState.ACTIVE


async def test_the_old_phones_ussd_session_neither_resends_nor_moves(engine, context, redis, keys):
    ticket = await booked(context.registry)
    status_dial = await dialled(engine, "status-dial", "2", last6(1))
    change_dial = await dialled(engine, "change-dial", "3", last6(1), "1", "3")  # Konfirmasi
    await relisted(redis, keys)
    resent = await status_dial.send("1")  # Kirim ulang SMS tiket
    assert resent.end and ENDED in resent.text and ticket.code not in resent.text
    moved = await change_dial.send("1")  # Ya, daftarkan
    assert moved.end and ENDED in moved.text
    await still_booked(context.registry, ticket)
    sent = [f for _, f in await redis.xrange(keys.sms_outbox()) if f["kind"].startswith("ticket")]
    assert sent == []  # neither the old ticket re-sent nor a new one issued


async def test_the_old_phones_sms_conversation_cancels_nothing(engine, context, redis, keys):
    """A day-long SMS conversation verified from the old phone cancelled the booking after
    the operator had moved the worker to a new phone."""
    ticket = await booked(context.registry)
    for text in ("CEK", last6(1)):
        shown = await by_sms(engine, text)
    assert ticket.code in shown.text
    await relisted(redis, keys)
    for text in ("2", "2"):  # Ubah/batal jadwal, Batalkan
        await by_sms(engine, text)
    answer = await by_sms(engine, "YA")
    assert answer.end and ENDED in answer.text and "dibatalkan" not in answer.text
    await still_booked(context.registry, ticket)
    # The new phone acts as before.
    for text in ("BATAL", last6(1)):
        await by_sms(engine, text, NEW_PHONE)
    assert "Jadwal dibatalkan" in (await by_sms(engine, "YA", NEW_PHONE)).text
