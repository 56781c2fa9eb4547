"""A checked-in ticket over SMS and WhatsApp: said to be used, shown with no QR link.

Engine level on real Redis; a ticket for tomorrow checks in today (tolerance 1 day).
"""

from __future__ import annotations

import re

import pytest

from dialogue.model import Channel, Inbound, Outbound, SessionEvent
from tests.conftest import make_test_config
from tests.ussd_harness import PHONE, last6, load_registry
from whatsapp.render import WhatsAppLayout, render


@pytest.fixture
def config(key_prefix):
    return make_test_config(key_prefix, **{"registration.check_in_tolerance_days": 1})


@pytest.fixture
async def engine(context, redis, keys):
    await load_registry(redis, keys)
    return context.engine


async def send(engine, text: str, channel: Channel = Channel.SMS) -> Outbound:
    inbound = Inbound(channel, "test", PHONE, PHONE, "1199", SessionEvent.CONTINUE, text)
    layout = WhatsAppLayout() if channel is Channel.WHATSAPP else None
    return await engine.handle(inbound, layout=layout)


async def booked_ticket(engine) -> str:
    """Register by SMS (every screening answer "no", the first time): the ticket code."""
    for text in ("VAKSIN", "YA", last6(1)):
        await send(engine, text)
    reply = await send(engine, "1")
    while re.match(r"\(\d+/\d+\)", reply.text):
        reply = await send(engine, "TIDAK")
    await send(engine, "1")
    return re.search(r"Kode tiket: (\w+)", (await send(engine, "1")).text).group(1)


async def used_ticket(engine, registry) -> str:
    """Book by SMS, then check the ticket in at its site."""
    code = await booked_ticket(engine)
    ticket = await registry.ticket(code)
    checked = await registry.check_in(ticket.payload, facility_id=ticket.facility_id)
    assert checked.outcome.value == "valid"
    return code


async def test_a_used_ticket_is_shown_as_used_without_a_qr_link(engine, context):
    """CEK used to answer "QR tiket: <link>" (a 404) and offer to re-send "show the QR"."""
    code = await used_ticket(engine, context.registry)
    await send(engine, "CEK")
    status = await send(engine, last6(1))
    assert code in status.text and "sudah dipakai" in status.text
    assert "/tickets/" not in status.text and "QR" not in status.text
    assert "Kirim ulang SMS tiket" not in status.text and status.view.qr_link == ""
    await send(engine, "CEK", Channel.WHATSAPP)
    shown = await send(engine, last6(1), Channel.WHATSAPP)
    messages = render(shown.view, context.engine.menus).messages
    assert shown.view.qr_link == "" and all(m["type"] != "image" for m in messages)
    assert code in shown.text and "sudah dipakai" in shown.text


async def test_an_active_ticket_still_comes_with_its_qr(engine, context):
    code = await booked_ticket(engine)
    await send(engine, "CEK", Channel.WHATSAPP)
    shown = await send(engine, last6(1), Channel.WHATSAPP)
    messages = render(shown.view, context.engine.menus).messages
    assert shown.view.qr_link.endswith(f"/tickets/{code}.png")
    assert messages[0]["type"] == "image"
