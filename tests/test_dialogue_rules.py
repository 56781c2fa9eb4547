"""The domain's rules as a user meets them in the dialogue (in process, memory stores).

A screening "yes" gives that screen's own outcome; an age outside this phase ends the
registration before any question, on every channel; a deferral holds until its date;
a dose 2 is offered from its due date; a number not on the list gets the promised SMS.
Today is Wednesday 13 January 2021 (WIB) on the test clock.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from dialogue.model import Channel, Inbound, SessionEvent, ViewKind
from registration.memory import memory_registry
from registration.service import Registry
from tests.dialogue_harness import Dialogue, Handset, memory_dialogue, sms
from tests.test_registration_support import FakeClock
from tests.ussd_harness import PHONE, default_phones, facility_lines, last6, nik, worker_lines

TODAY = date(2021, 1, 13)
AGED_62 = "3273011503580062"  # born 15 March 1958: 62 in January 2021
OLD_PHONE = "6281277770062"
DAY_SECONDS = 24 * 3600


@pytest.fixture
async def dialogue(config) -> Dialogue:
    clock = FakeClock()
    registry = memory_registry(config, clock=clock)
    await registry.import_facilities(facility_lines())
    older = f"{AGED_62},Bambang Sutrisno,{OLD_PHONE},dokter,F001"
    assert (
        await registry.import_health_workers([*worker_lines(default_phones()), older])
    ).rows_bad == 0
    return memory_dialogue(config, registry, clock)


def registry_of(dialogue: Dialogue) -> Registry:
    registry = dialogue.engine.context.registry
    assert isinstance(registry, Registry)
    return registry


async def to_screening(phone: Handset, digits: str = last6(1), lang: str = "id") -> str:
    """Dial, (choose English,) register, verify, confirm the site: the next screen's text."""
    await phone.dial()
    if lang == "en":
        await phone.send("4")
        await phone.send("2")
    await phone.send("1")
    await phone.send("1")
    await phone.send(digits)
    return (await phone.send("1")).text


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("position", range(5))
async def test_yes_on_one_screen_gives_that_screens_outcome_reason_and_advice(
    dialogue: Dialogue, lang: str, position: int
) -> None:
    """A cough (screen 1) used to end with "not eligible: past COVID-19, pregnant...":
    the dialogue stops at a "yes" and the unasked screens counted as "yes" too."""
    registry = registry_of(dialogue)
    groups = registry.screening_groups()
    group = groups[position]
    phone = Handset(dialogue.engine, PHONE, f"group-{position}")
    question = await to_screening(phone, lang=lang)
    for _ in range(position):
        question = (await phone.send("2")).text
    assert question.startswith(f"({position + 1}/") and group.prompt[lang] in question
    end = await phone.send("1")
    assert end.end and end.view.kind is ViewKind.END
    assert group.reason[lang].rstrip(".") in end.text and group.advice[lang] in end.text
    assert not [g for g in groups if g is not group and g.reason[lang].rstrip(".") in end.text]
    if group.on_yes == "deferred":  # with the date to come back
        retry = TODAY + timedelta(days=group.defer_days)
        assert dialogue.engine.context.lookups.day_text(retry, lang) in end.text
    totals = (await registry.stats())["totals"]
    counted = {k: totals[k] for k in ("screened", "eligible", "deferred", "not_eligible")}
    expected = {"screened": 1, "eligible": 0, "deferred": 0, "not_eligible": 0}
    assert counted == {**expected, group.on_yes.value: 1}
    status = await registry.status_by_nik(nik(1))
    assert status and status.screening and status.screening.reason_id == group.group_id


async def test_a_cough_is_a_deferral_of_14_days_not_a_lifetime_refusal(dialogue) -> None:
    phone = Handset(dialogue.engine, PHONE, "cough")
    await to_screening(phone)
    end = (await phone.send("1")).text  # "Ya" to the first screen
    assert end.startswith("Ditunda: Ada gejala atau kontak erat COVID-19.")
    assert "Daftar ulang setelah 14 hari bila sehat" in end and "Rab 27/01" in end
    assert "Riwayat COVID-19" not in end and "Belum dapat divaksin" not in end


async def test_a_deferred_person_hears_the_deferral_again_without_questions(dialogue) -> None:
    phone = Handset(dialogue.engine, PHONE, "first")
    await to_screening(phone)
    first = (await phone.send("1")).text
    again = Handset(dialogue.engine, PHONE, "second")
    end = await to_screening(again)  # the screen after "this site is right"
    assert end == first  # no question asked: the same deferral, the same date
    dialogue.clock.advance(14 * DAY_SECONDS)  # the 27th: the retry date
    later = Handset(dialogue.engine, PHONE, "third")
    assert (await to_screening(later)).startswith("(1/")


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_a_worker_over_59_hears_why_before_any_question_on_every_channel(
    dialogue: Dialogue, lang: str
) -> None:
    """A health worker aged 62 used to get a ticket."""
    registry = registry_of(dialogue)
    why = registry.screening_reason("usia_60_plus")
    assert why is not None
    # USSD (in English it chooses the language first: the phone keeps it for SMS too)
    ussd = await to_screening(Handset(dialogue.engine, OLD_PHONE, "ussd-62"), AGED_62[-6:], lang)
    # Two-way SMS: the keyword of the language (VAKSIN would answer in Indonesian)
    word = "VAKSIN" if lang == "id" else "VACCINE"
    replies = [await sms(dialogue.engine, t, OLD_PHONE) for t in (word, "YA", AGED_62[-6:], "1")]
    # The website (the phone proven by a code already): it starts at the NIK
    web = []
    for hop, text in enumerate(["", AGED_62[-6:], "1"], 1):
        event = SessionEvent.NEW if hop == 1 else SessionEvent.CONTINUE
        inbound = Inbound(
            Channel.WEB, "web", "b-62", OLD_PHONE, "", event, text, hop=hop, lang=lang
        )
        web.append(await dialogue.engine.handle(inbound))
    for end in (ussd, replies[-1].text, web[-1].view.body):
        assert why.reason[lang].rstrip(".") in end and why.advice[lang] in end, end
    assert replies[-1].end and web[-1].end and not dialogue.outbox.sent  # no ticket, no SMS
    status = await registry.status_by_nik(AGED_62)
    assert status and status.ticket is None and status.screening
    assert (status.screening.outcome, status.screening.reason_id) == (
        "not_eligible",
        "usia_60_plus",
    )
    assert (await registry.stats())["totals"]["not_eligible"] == 1  # recorded, counted once


async def test_dose_2_is_offered_from_its_due_date(dialogue: Dialogue) -> None:
    registry = registry_of(dialogue)
    phone = Handset(dialogue.engine, PHONE, "dose-1")
    question = await to_screening(phone)
    while question.startswith("("):
        question = (await phone.send("2")).text
    await phone.send("1")  # the first time offered: Thursday the 14th
    done = await phone.send("1")
    code = re.search(r"Kode tiket: (\w+)", done.text).group(1)
    dialogue.clock.advance(DAY_SECONDS)
    checked = await registry.check_in(code, facility_id="F001")
    assert checked.dose2_due == date(2021, 1, 28)
    # Dose 2: status, change, register now, screening, then the times offered.
    again = Handset(dialogue.engine, PHONE, "dose-2")
    await again.dial()
    await again.send("3")
    await again.send(last6(1))
    await again.send("1")  # register now
    question = (await again.send("1")).text
    while question.startswith("("):
        question = (await again.send("2")).text
    assert question.startswith("Pilih jadwal") and "Kam 28/01" in question
    assert not re.search(r"\d\d/01", question.replace("28/01", "")), question


async def test_a_number_not_on_the_list_gets_the_promised_sms_once_a_day(dialogue) -> None:
    stranger = "6285799990000"

    async def dial(session: str) -> str:
        phone = Handset(dialogue.engine, stranger, session)
        await phone.dial()
        await phone.send("1")
        await phone.send("1")
        return (await phone.send("123456")).text

    end = await dial("x-1")
    assert "tidak ada di daftar nakes" in end and "dikirim lewat SMS" in end
    assert "Anda akan dikirimi SMS" not in end
    [sent] = dialogue.outbox.sent
    assert (sent.to, sent.kind) == (stranger, "not_listed")
    assert "SISDMK" in sent.text and "vaksinasi@kemkes.go.id" in sent.text
    await dial("x-2")
    assert len(dialogue.outbox.sent) == 1  # once a day per phone
    dialogue.clock.advance(DAY_SECONDS)
    await dial("x-3")
    assert len(dialogue.outbox.sent) == 2
    # By SMS the reply is itself the SMS: nothing more is queued, nothing more promised.
    for text in ("VAKSIN", "YA", "123456"):
        reply = await sms(dialogue.engine, text, "6285799990001")
    assert "SISDMK" in reply.text and "dikirim lewat SMS" not in reply.text
    assert len(dialogue.outbox.sent) == 2
