"""After a dose, as a user meets it: dose 2's due date after dose 1; one clear screen after
the last dose, on every route; a session left open when the last dose is given.

The engine in process on the Registry over real Redis, with a clock the test moves
(today is Wednesday 13 January 2021, WIB); a ticket checks in a day either side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from functools import partial

import pytest

from dialogue.model import Outbound
from registration.models import Ticket
from registration.service import Registry
from tests.conftest import make_test_config
from tests.dialogue_harness import Dialogue, Handset, memory_dialogue, sms
from tests.registry_backends import START
from tests.test_registration_support import FakeClock
from tests.ussd_harness import PHONE, last6, load_registry, nik

TODAY, DUE = date(2021, 1, 13), date(2021, 1, 28)  # dose 2 of a dose 1 on the 14th (age 31)
DAY_SECONDS = 24 * 3600
WHO = nik(1)  # PHONE's
COMPLETE = {"id": "sudah menerima 2 dosis", "en": "you have completed both doses"}


@pytest.fixture
def config(key_prefix: str):
    return make_test_config(key_prefix, **{"registration.check_in_tolerance_days": 1})


@pytest.fixture
async def dialogue(config, redis, keys) -> AsyncIterator[Dialogue]:
    await load_registry(redis, keys)
    clock = FakeClock()
    registry = Registry.from_config(config, redis, clock=clock)
    try:
        yield memory_dialogue(config, registry, clock)
    finally:
        await registry.aclose()


def registry_of(dialogue: Dialogue) -> Registry:
    registry = dialogue.engine.context.registry
    assert isinstance(registry, Registry)
    return registry


def on_day(dialogue: Dialogue, day: date) -> None:
    dialogue.clock.now = START + (day - TODAY).days * DAY_SECONDS  # 10:00 WIB that day


async def given(dialogue: Dialogue, *days: date) -> list[Ticket]:
    """A dose booked for each of ``days`` (screened "no" throughout), checked in on its day."""
    registry, done = registry_of(dialogue), []
    answers = {g.group_id: False for g in registry.screening_groups()}
    for day in days:
        assert (await registry.record_screening(WHO, answers)).outcome == "eligible"
        booking = await registry.book(WHO, "F001", day, "pagi")
        assert booking.ticket is not None
        on_day(dialogue, day)
        checked = await registry.check_in(booking.ticket.code, facility_id="F001")
        assert checked.outcome == "valid"
        done.append(booking.ticket)
    return done


async def through(phone: Handset, *answers: str) -> str:
    """Dial, give ``answers`` then the NIK digits: the screen shown."""
    await phone.dial()
    for answer in answers:
        await phone.send(answer)
    return (await phone.send(last6(1))).text


async def to_questions(send: Callable[[str], Awaitable[Outbound]]) -> str:
    """From the screen after the NIK: "1" (register for dose 2, then "correct, go on") until
    the screening's first question; its text."""
    for _ in range(4):
        shown = (await send("1")).text
        if shown.startswith("("):
            return shown
    raise AssertionError(f"no screening question: {shown}")


async def all_no(phone: Handset, question: str) -> str:
    while question.startswith("("):  # "(1/5) ..." the screening's questions
        question = (await phone.send("2")).text
    return question


async def test_after_both_doses_every_route_says_the_course_is_complete(dialogue) -> None:
    """Register used to show the used ticket, then "Ubah/batal" said "no booking yet.
    Register now", a whole screening (stored as dose 3) and times, ending on "you already
    have a booking" with the used ticket."""
    registry = registry_of(dialogue)
    await given(dialogue, date(2021, 1, 14), DUE)
    before = (await registry.stats())["totals"]
    routes = {"register": ("1", "1"), "status": ("2",), "change": ("3",)}
    for route, answers in routes.items():
        phone = Handset(dialogue.engine, PHONE, f"done-{route}")
        assert COMPLETE["id"] in await through(phone, *answers), route
    for keywords in (("VAKSIN", "YA"), ("CEK",), ("BATAL",)):
        for keyword in keywords:
            await sms(dialogue.engine, keyword, PHONE)
        reply = await sms(dialogue.engine, last6(1), PHONE)
        assert reply.end and COMPLETE["id"] in reply.text, (keywords, reply.text)
    english = Handset(dialogue.engine, PHONE, "done-en")
    assert COMPLETE["en"] in await through(english, "4", "2", "1", "1")
    assert (await registry.stats())["totals"] == before  # no screening for a dose 3


async def test_after_dose_1_every_route_says_when_dose_2_is_due(dialogue) -> None:
    """The status showed the used ticket only; registering meant "Ubah/batal", then
    "no vaccination booked yet"."""
    [dose1] = await given(dialogue, date(2021, 1, 14))
    for route, answers in {"register": ("1", "1"), "status": ("2",), "change": ("3",)}.items():
        shown = await through(Handset(dialogue.engine, PHONE, f"dose1-{route}"), *answers)
        assert "Dosis 2 mulai Kam 28/01" in shown and dose1.code in shown, (route, shown)
    await sms(dialogue.engine, "CEK", PHONE)
    reply = await sms(dialogue.engine, last6(1), PHONE)
    assert "Dosis 2 mulai Kam 28/01" in reply.text and "Balas 1 untuk Daftar dosis 2" in reply.text
    phone = Handset(dialogue.engine, PHONE, "dose1-on")
    await through(phone, "2")
    assert "Lokasi vaksin" in (await phone.send("1")).text  # register for dose 2 from here
    times = await all_no(phone, (await phone.send("1")).text)
    assert times.startswith("Pilih jadwal") and "Kam 28/01" in times


async def test_a_session_left_open_ends_on_the_complete_course(dialogue) -> None:
    """Confirming a time after the last dose was given elsewhere said "you already have a
    booking ... change it in menu 3" with the used ticket."""
    await given(dialogue, date(2021, 1, 14))
    on_day(dialogue, DUE)
    confirming = Handset(dialogue.engine, PHONE, "open-confirm")
    await through(confirming, "1", "1")
    times = await all_no(confirming, await to_questions(confirming.send))
    assert "Kam 28/01" not in times and "Jum 29/01" in times  # tomorrow on
    assert "Konfirmasi" in (await confirming.send("1")).text
    for text in ("VAKSIN", "YA", last6(1)):  # by SMS too, up to the first question
        await sms(dialogue.engine, text, PHONE)
    await to_questions(partial(sms, dialogue.engine, msisdn=PHONE))
    # Meanwhile dose 2 is booked by SMS, say, and given a day early (the tolerance).
    registry = registry_of(dialogue)
    booking = await registry.book(WHO, "F001", date(2021, 1, 29), "siang")
    assert booking.ticket is not None
    assert (await registry.check_in(booking.ticket.code, facility_id="F001")).outcome == "valid"
    end = await confirming.send("1")
    assert end.end and COMPLETE["id"] in end.text, end.text
    for _ in registry.screening_groups():  # "no" to every screen: the last one is recorded
        end = await sms(dialogue.engine, "TIDAK", PHONE)
    assert end.end and COMPLETE["id"] in end.text, end.text
