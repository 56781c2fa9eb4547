"""A ticket shown on one channel, moved or cancelled on another before the user answers.

Engine level on real Redis (the Registry, sessions and outbox of the server): a USSD
screen stays open while the same person texts 1199; what the USSD answer then does
must follow the booking as it is now, not as it was shown.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from core.keys import OutboxKeys
from core.outbox import Outbox
from core.redis_client import lean_like
from core.redis_lean import Call
from dialogue.engine import Engine
from dialogue.keys import DialogueKeys
from dialogue.model import Channel, Inbound, SessionEvent
from dialogue.session_redis import RedisSessionStore
from registration import redis_lua
from registration.models import Ticket, TicketState
from registration.service import Registry
from tests.dialogue_harness import Handset
from tests.ussd_harness import PHONE, last6, load_registry, nik

CODE = re.compile(r"Kode tiket: (\w+)")


@pytest.fixture
async def engine(context, redis, keys) -> Engine:
    await load_registry(redis, keys)
    return context.engine


async def booked(registry: Registry) -> Ticket:
    """Screened and booked on the first time offered (the SMS list's item 1)."""
    no = {g.group_id: False for g in registry.screening_groups()}
    await registry.record_screening(nik(1), no)
    first = (await registry.available_slots("F001", nik=nik(1)))[0]
    result = await registry.book(nik(1), "F001", first.day, first.session_id)
    assert result.ticket is not None
    return result.ticket


async def by_sms(engine: Engine, text: str) -> str:
    inbound = Inbound(Channel.SMS, "smpp", PHONE, PHONE, "1199", SessionEvent.CONTINUE, text)
    return (await engine.handle(inbound)).text


async def moved_by_sms(engine: Engine, registry: Registry, before: Ticket) -> Ticket:
    """CEK, the digits, change, change time, the third time offered, confirm."""
    for text in ("CEK", last6(1), "2", "1", "3"):
        await by_sms(engine, text)
    assert "Terdaftar" in await by_sms(engine, "1")
    status = await registry.status_by_nik(nik(1))
    assert status is not None and status.ticket is not None
    assert status.ticket.code != before.code and status.ticket.state is TicketState.ACTIVE
    return status.ticket


async def ussd_status(engine: Engine, session_id: str, menu: str) -> Handset:
    """A dial left on a screen after the digits: menu 2 (status) or 3 (change/cancel)."""
    phone = Handset(engine, PHONE, session_id)
    await phone.dial()
    await phone.send(menu)
    await phone.send(last6(1))
    return phone


async def texts(redis, keys, kind: str) -> list[str]:
    return [f["text"] for _, f in await redis.xrange(keys.sms_outbox()) if f["kind"] == kind]


async def test_a_resend_after_a_move_elsewhere_sends_the_ticket_as_it_is_now(
    engine, context, redis, keys
):
    """The status screen's "Kirim ulang SMS tiket" sent the code and time it had shown: a
    ticket moved by SMS meanwhile (cancelled, its QR refused on site)."""
    shown = await booked(context.registry)
    phone = await ussd_status(engine, "status-dial", "2")
    moved = await moved_by_sms(engine, context.registry, shown)
    screen = (await phone.send("1")).text  # Kirim ulang SMS tiket
    assert moved.code in screen and shown.code not in screen
    [sent] = await texts(redis, keys, "ticket_resend")
    assert moved.code in sent and shown.code not in sent


async def test_a_resend_after_a_cancel_elsewhere_sends_nothing(engine, context, redis, keys):
    shown = await booked(context.registry)
    phone = await ussd_status(engine, "status-dial", "2")
    for text in ("BATAL", last6(1)):
        await by_sms(engine, text)
    assert "dibatalkan" in await by_sms(engine, "YA")
    screen = (await phone.send("1")).text
    assert "belum ada jadwal" in screen and shown.code not in screen
    assert await texts(redis, keys, "ticket_resend") == []


async def test_cancelling_a_booking_moved_meanwhile_cancels_nothing_and_shows_it(engine, context):
    """USSD asked "Batalkan jadwal <day A>?"; the booking moved to day B by SMS; "Ya"
    cancelled the booking of day B."""
    shown = await booked(context.registry)
    phone = await ussd_status(engine, "cancel-dial", "3")
    question = (await phone.send("2")).text  # Batalkan
    assert "Batalkan jadwal" in question
    moved = await moved_by_sms(engine, context.registry, shown)
    answer = (await phone.send("1")).text  # Ya
    assert "Tidak dibatalkan" in answer and "belum ada jadwal" not in answer
    assert context.engine.context.lookups.day_text(moved.day, "id") in answer
    status = await context.registry.status_by_nik(nik(1))
    assert status is not None and status.ticket == moved  # still active
    assert "Batalkan jadwal" in (await phone.send("2")).text  # ... and may be cancelled now
    assert "Jadwal dibatalkan" in (await phone.send("1")).text
    status = await context.registry.status_by_nik(nik(1))
    assert status is not None and status.ticket.state is TicketState.CANCELLED


class MovedBeforeTheCancelScript:
    """The process's lean connection, except that the first cancel script sent through it
    waits until ``meanwhile`` has run: a cancel that read the booking just before another
    process moved it (the reschedule wins the race)."""

    def __init__(self, lean: Any, meanwhile: Callable[[], Awaitable[object]]) -> None:
        self._lean, self._meanwhile = lean, meanwhile
        self.raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lean, name)

    async def batch(self, items: Sequence[Any]) -> list[Any]:
        cancels = [i for i in items if isinstance(i, Call) and i.script is redis_lua.CANCEL]
        if cancels and not self.raced:
            self.raced = True
            await self._meanwhile()
        return list(await self._lean.batch(items))


@pytest.fixture
async def racing(config, redis, keys, key_prefix) -> AsyncIterator[tuple[Engine, Registry]]:
    """The engine of a process whose next cancel loses to a reschedule by another process."""
    await load_registry(redis, keys)
    other = Registry.from_config(config, redis)  # another process: its own connection

    async def reschedule() -> None:
        third = (await other.available_slots("F001", nik=nik(1)))[2]
        moved = await other.reschedule(nik(1), "F001", third.day, third.session_id)
        assert moved.ticket is not None

    lean = lean_like(redis)
    hooked = MovedBeforeTheCancelScript(lean, reschedule)
    registry = Registry.from_config(config, redis, fast=hooked)
    sessions = RedisSessionStore(hooked, DialogueKeys(key_prefix))
    outbox = Outbox(hooked, OutboxKeys(key_prefix))
    try:
        yield Engine.from_config(config, registry, sessions, outbox=outbox), other
    finally:
        await other.aclose()
        await lean.aclose()


async def test_a_cancel_that_loses_to_a_reschedule_shows_the_booking_it_left(racing):
    """The cancel read the booking, a reschedule replaced it, the cancel script then found
    another booking and did nothing: the screen said "belum ada jadwal vaksinasi" and
    offered to register, under an active ticket."""
    engine, other = racing
    shown = await booked(other)
    phone = await ussd_status(engine, "cancel-dial", "3")
    assert "Batalkan jadwal" in (await phone.send("2")).text
    answer = (await phone.send("1")).text  # Ya: the reschedule lands in between
    status = await other.status_by_nik(nik(1))
    assert status is not None and status.ticket is not None
    assert status.ticket.code != shown.code and status.ticket.state is TicketState.ACTIVE
    assert "belum ada jadwal" not in answer and "Tidak dibatalkan" in answer
    assert engine.context.lookups.day_text(status.ticket.day, "id") in answer
