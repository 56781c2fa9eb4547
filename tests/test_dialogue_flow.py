"""The dialogue in process on memory stores: navigation, retransmits, resume, a registration.

Runs on ``registration.memory`` (the domain's in-memory stores) and the in-memory
session store; skipped where the domain's memory stores are not installed.
"""

from __future__ import annotations

import math
import re

import pytest

from dialogue.model import Layout, View, ViewKind
from tests.dialogue_harness import Dialogue, Handset, memory_dialogue, sms
from tests.test_registration_support import FakeClock
from tests.ussd_harness import PHONE, default_phones, facility_lines, last6, worker_lines

memory = pytest.importorskip("registration.memory")

CODE = re.compile(r"(?:Kode tiket|Ticket code): ([A-Z0-9]{6,})")


@pytest.fixture(name="dialogue")
async def dialogue_fixture(config) -> Dialogue:
    """The shipped menus on the domain's memory stores, the registry loaded."""
    clock = FakeClock()
    registry = memory.memory_registry(config, clock=clock)
    await registry.import_facilities(facility_lines())
    await registry.import_health_workers(worker_lines(default_phones()))
    return memory_dialogue(config, registry, clock)


@pytest.fixture
def phone(dialogue: Dialogue) -> Handset:
    return Handset(dialogue.engine, PHONE, "first-dial")


async def up_to_screening(phone: Handset) -> str:
    """Dial, register, verify; returns the first screening question."""
    await phone.dial()
    return await register_to_screening(phone)


async def register_to_screening(phone: Handset) -> str:
    """From the main menu: register, verify; returns the first screening question."""
    assert "tenaga kesehatan" in (await phone.send("1")).text
    assert "6 digit terakhir NIK" in (await phone.send("1")).text
    assert "Lokasi vaksin" in (await phone.send(last6(1))).text
    return (await phone.send("1")).text


async def answer_screening(phone: Handset, question: str) -> str:
    while question.startswith("("):
        question = (await phone.send("2")).text
    return question


async def test_a_whole_registration_books_once_and_queues_one_ticket_sms(dialogue, phone):
    slots = await answer_screening(phone, await up_to_screening(phone))
    assert "Pilih jadwal" in slots
    assert "Konfirmasi" in (await phone.send("1")).text
    done = await phone.send("1")
    code = CODE.search(done.text).group(1)
    assert done.end and done.view.kind is ViewKind.END and done.view.ticket_code == code
    assert done.view.qr_link.endswith(f"/tickets/{code}.png")
    assert [(s.kind, s.to) for s in dialogue.outbox.sent] == [("ticket", PHONE)]
    assert code in dialogue.outbox.sent[0].text
    # The gateway missed our answer and sends the confirming hop again: same screen, no 2nd SMS.
    assert await phone.resend_last() == done
    assert len(dialogue.outbox.sent) == 1
    assert "sudah selesai" in (await phone.send("1")).text


async def test_back_main_menu_and_paging(phone):
    await phone.dial()
    invalid = await phone.send("7")
    assert "Pilihan salah" in invalid.text and invalid.view.error == "Pilihan salah."
    await phone.send("1")
    assert "Daftar vaksinasi" in (await phone.send("0")).text  # back to the main menu
    await register_to_screening(phone)
    assert (await phone.send("0")).text.startswith("Siti N. P.")  # back to the confirmation
    first = await phone.send("2")  # choose another site: a paged list
    assert first.view.kind is ViewKind.LIST and "98. Berikutnya" in first.text
    second = await phone.send("98")
    assert second.view.page == 1 and second.text != first.text
    assert (await phone.send("0")).text == first.text  # back = previous page
    page = first
    while "98. " in page.text:
        page = await phone.send("98")
    assert "Pilihan salah" in (await phone.send("98")).text  # no page after the last
    assert "Daftar vaksinasi" in (await phone.send("00")).text


async def test_digits_other_than_0_to_9_are_a_wrong_choice_not_a_crash(phone):
    """Python's isdigit() takes "²" (which int() refuses) and "１" or "٣" (which it reads
    as 1 and 3): a phone's keyboard may send any of them. Each is a wrong choice, with
    the menu again, and the session goes on."""
    menu = await phone.dial()
    for typed in ("²", "①", "１", "٣", "1²"):
        again = await phone.send(typed)
        assert not again.end, typed
        assert again.view.error == "Pilihan salah." and menu.text in again.text, typed
    assert "tenaga kesehatan" in (await phone.send("1")).text


async def test_back_from_a_screening_question_asks_the_previous_one_again(phone):
    assert (await up_to_screening(phone)).startswith("(1/")
    assert (await phone.send("2")).text.startswith("(2/")
    assert (await phone.send("0")).text.startswith("(1/")


async def test_a_retransmitted_hop_is_answered_again_not_applied_again(phone):
    first = await phone.dial()
    assert await phone.resend_last() == first
    question = await phone.send("1")
    assert await phone.resend_last() == question  # "1" applied once: still the yes/no question
    assert "6 digit terakhir NIK" in (await phone.send("1")).text


async def test_a_repeated_dial_without_hop_numbers_gets_the_same_screen(dialogue):
    gateway = Handset(dialogue.engine, PHONE, "no-hops", numbered=False)
    first = await gateway.dial()
    assert await gateway.resend_last() == first
    assert "tenaga kesehatan" in (await gateway.send("1")).text


async def test_a_dropped_registration_is_resumed_on_the_next_dial(dialogue, phone):
    await up_to_screening(phone)
    await phone.send("2")  # dropped after the first screening answer
    again = Handset(dialogue.engine, PHONE, "second-dial")
    assert "belum selesai" in (await again.dial()).text
    question = await again.send("1")
    assert question.text.startswith("(2/")
    assert "Pilih jadwal" in await answer_screening(again, question.text)
    assert "Konfirmasi" in (await again.send("1")).text
    assert CODE.search((await again.send("1")).text)
    third = Handset(dialogue.engine, PHONE, "third-dial")
    assert "Daftar vaksinasi" in (await third.dial()).text  # finished: nothing to resume


async def test_start_over_forgets_the_dropped_registration(dialogue, phone):
    await up_to_screening(phone)
    await phone.hang_up()
    again = Handset(dialogue.engine, PHONE, "second-dial")
    assert "belum selesai" in (await again.dial()).text
    assert "Daftar vaksinasi" in (await again.send("2")).text
    third = Handset(dialogue.engine, PHONE, "third-dial")
    assert "Daftar vaksinasi" in (await third.dial()).text


async def test_an_idle_session_expires_politely(dialogue, phone):
    await phone.dial()
    await phone.send("1")
    dialogue.clock.advance(dialogue.engine.context.settings.session_ttl_seconds + 1)
    late = await phone.send("1")
    assert late.end and "sudah berakhir" in late.text


async def test_the_language_is_remembered_per_phone(dialogue, phone):
    await phone.dial()
    await phone.send("4")
    assert "1. Register" in (await phone.send("2")).text
    later = Handset(dialogue.engine, PHONE, "later")
    assert "1. Register" in (await later.dial()).text


async def test_keys_from_the_view_answer_like_typed_numbers(phone):
    main = await phone.dial()
    assert [key for key, _ in main.view.options] == ["main.1", "main.2", "main.3", "main.4"]
    question = await phone.pick("main.1")
    assert question.view.screen_id == "hw_confirm"
    stale = await phone.pick("main.2")  # a button of the screen before
    assert stale.view.screen_id == "hw_confirm" and stale.view.error
    assert (await phone.pick("hw_confirm.yes")).view.kind is ViewKind.INPUT
    await phone.send(last6(1))
    sites = await phone.send("2")
    key, _ = sites.view.items[-1]  # the last site, on a later page: keys need no paging
    screening = await phone.pick(key)
    assert screening.view.screen_id == "screening" and screening.text.startswith("(1/")
    assert (await phone.pick("screening.1.no")).text.startswith("(2/")
    assert (await phone.pick("screening.1.no")).view.error  # question 1 is behind us


class TenRows:
    """A layout like WhatsApp's: lists in pages of 10 rows, long texts fit."""

    long_form = True

    def pages(self, view: View) -> int:
        return max(1, math.ceil(len(view.items) / 10)) if view.kind is ViewKind.LIST else 1

    def text(self, view: View) -> str:
        rows = view.items[view.page * 10 : view.page * 10 + 10]
        return "\n".join([view.body, *(label for _, label in rows)])


async def test_a_channel_pages_lists_its_own_way(dialogue):
    layout: Layout = TenRows()
    phone = Handset(dialogue.engine, PHONE, "rows", layout=layout)
    await up_to_screening(phone)
    await phone.send("0")
    sites = await phone.send("2")
    assert len(sites.view.items) == 14 and len(sites.text.splitlines()) == 11
    assert len((await phone.send("98")).text.splitlines()) == 5  # rows 11-14
    assert (await phone.send("98")).view.error == "Pilihan salah."


async def test_sms_keywords_start_the_dialogue_and_unknown_text_gets_help(dialogue):
    first = await sms(dialogue.engine, "  vaksin! ", PHONE)
    assert "Balas YA atau TIDAK" in first.text and first.view.screen_id == "hw_confirm"
    assert "6 digit terakhir NIK" in (await sms(dialogue.engine, "ya", PHONE)).text
    stranger = await sms(dialogue.engine, "halo apa kabar", "6281200000999")
    assert stranger.fallback and stranger.end and "VAKSIN" in stranger.text
