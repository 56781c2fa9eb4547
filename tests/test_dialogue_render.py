"""One structured screen, laid out by each channel: USSD lines paged by septets, SMS text."""

from __future__ import annotations

import re

import pytest

from dialogue.gsm import septets
from dialogue.menus import Menus
from dialogue.model import View, ViewKind
from dialogue.render import SmsLayout, UssdLayout
from smpp.encoding import count_parts
from tests.dialogue_harness import shipped_menus


@pytest.fixture(scope="module")
def menus() -> Menus:
    return shipped_menus()


def slot_list(count: int, lang: str = "id", page: int = 0) -> View:
    days = [(14 + n // 2, ("pagi", "siang")[n % 2]) for n in range(count)]
    items = tuple((f"2021-01-{d}|{s}", f"Kam {d}/01 08:00-12:00 (50)") for d, s in days)
    return View(
        ViewKind.LIST, "slot_list", lang, "Pilih jadwal (sisa kursi):", items=items, page=page
    )


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+)\. ", text, re.M)]


def test_a_menu_is_numbered_under_its_error(menus: Menus) -> None:
    view = View(
        ViewKind.MENU,
        "main",
        "id",
        "Vaksin COVID-19 Nakes",
        options=(("main.1", "Daftar vaksinasi"), ("main.2", "Cek status & tiket")),
        error="Pilihan salah.",
    )
    text = UssdLayout(menus, 160).text(view)
    assert (
        text == "Pilihan salah.\nVaksin COVID-19 Nakes\n1. Daftar vaksinasi\n2. Cek status & tiket"
    )
    sms = SmsLayout(menus).text(view)
    assert sms.splitlines()[2:] == [
        "Balas 1 untuk Daftar vaksinasi",
        "Balas 2 untuk Cek status & tiket",
    ]


def test_a_yes_no_question_reads_as_numbers_on_ussd_and_words_by_sms(menus: Menus) -> None:
    yes_no = (("hw_confirm.yes", "Yes"), ("hw_confirm.no", "No"))
    view = View(ViewKind.YESNO, "hw_confirm", "en", "Are you a health worker?", options=yes_no)
    assert UssdLayout(menus, 160).text(view) == "Are you a health worker?\n1. Yes\n2. No"
    assert SmsLayout(menus).text(view) == "Are you a health worker?\nReply YES or NO"


@pytest.mark.parametrize("limit", [160, 120, 90])
def test_ussd_pages_a_long_list_within_the_limit_and_loses_nothing(menus: Menus, limit) -> None:
    layout = UssdLayout(menus, limit)
    pages = layout.pages(slot_list(24))
    assert pages > 1
    shown: list[int] = []
    for page in range(pages):
        text = layout.text(slot_list(24, page=page))
        assert septets(text) <= limit, text
        assert text.startswith("Pilih jadwal") and text.endswith("0. Kembali")
        assert ("98. Berikutnya" in text) == (page + 1 < pages)
        shown += [n for n in numbers(text) if 0 < n < 98]
    assert shown == list(range(1, 25))  # numbered across pages, in order, each once


def test_a_stricter_gateway_gets_more_pages(menus: Menus) -> None:
    assert UssdLayout(menus, 90).pages(slot_list(24)) > UssdLayout(menus, 160).pages(slot_list(24))
    assert UssdLayout(menus, 160).pages(slot_list(1)) == 1


def test_english_navigation_labels(menus: Menus) -> None:
    text = UssdLayout(menus, 160).text(slot_list(24, lang="en"))
    assert "98. More" in text and text.endswith("0. Back")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_sms_pages_a_long_list_within_two_segments_and_loses_nothing(
    menus: Menus, lang: str
) -> None:
    """A full schedule (24 times) was one reply of seven concatenated SMS."""
    layout = SmsLayout(menus)
    pages = layout.pages(slot_list(24, lang))
    assert pages > 1
    shown: list[int] = []
    for page in range(pages):
        text = layout.text(slot_list(24, lang, page=page))
        assert count_parts(text) in (("gsm7", 1), ("gsm7", 2)) and septets(text) <= 306, text
        more = menus.text("sms_more", lang)
        assert (more in text) == (page + 1 < pages)
        assert text.endswith(menus.text("sms_back", lang))
        shown += [int(n) for n in re.findall(r"^\w+ (\d+) \w+ ", text, re.M) if 0 < int(n) < 98]
    assert shown == list(range(1, 25))  # numbered across pages, in order, each once
    assert SmsLayout(menus).pages(slot_list(3)) == 1


def test_an_end_screen_is_just_its_text(menus: Menus) -> None:
    view = View(ViewKind.END, "done", "id", "Terdaftar! Kode tiket: ABCD2345")
    assert UssdLayout(menus, 160).text(view) == SmsLayout(menus).text(view) == view.body


def test_extension_characters_take_two_septets_in_ascii_and_accented_text() -> None:
    # A screen's room is counted in septets: "{", "|", "€"... cost an escape too, whether
    # or not the rest of the text is plain ASCII.
    assert septets("Balas 1|2") == 10
    assert septets("Halo {nama} [1]") == 19
    assert septets("Biaya €0, gratis") == 17
    assert septets("Café {x}") == 10
    assert septets("") == 0
