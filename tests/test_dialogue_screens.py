"""Every screen, both languages, worst-case values: fits the gateway's GSM-7 septet limit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dialogue.actions import short_name
from dialogue.engine import Engine
from dialogue.gsm import is_gsm, septets, to_gsm
from dialogue.lookups import FACILITY_NAME_CHARS
from dialogue.model import View, ViewKind
from dialogue.render import SmsLayout, UssdLayout, compose_ussd, render_sms, render_ussd
from dialogue.session import Session
from dialogue.views import build_view
from registration.screening import load_screening
from smpp.encoding import count_parts
from tests.ussd_harness import LONG_FACILITY

SCREENING_FILE = Path(__file__).resolve().parent.parent / "menus" / "screening.toml"
LONGEST_NAME = "Muhammadiyahsyahputra Abdurrahmanwahid Sastrowardoyo Wicaksono"


@pytest.fixture
def engine(context) -> Engine:
    return context.engine


def worst_vars(engine: Engine, lang: str, sid: str = "") -> dict[str, str]:
    """The longest values a screen can show; for an outcome screen, the longest reason and
    advice of the screening groups and age bands that lead there."""
    rules = load_screening(SCREENING_FILE)  # the file the engine's Registry loaded
    pairs = [(g.on_yes.value, g.reason, g.advice) for g in rules.groups]
    pairs += [(b.outcome.value, b.reason, b.advice) for b in rules.bands.bands if b.reason]
    if sid in ("deferred", "not_eligible"):
        pairs = [p for p in pairs if p[0] == sid] or pairs
    _, reason, advice = max(pairs, key=lambda p: len(p[1][lang]) + len(p[2][lang]))
    facility = to_gsm(LONG_FACILITY)[:FACILITY_NAME_CHARS]  # as Lookups.facility_name
    states = [engine.menus.text(f"ticket_{s}", lang) for s in ("active", "used", "cancelled")]
    return {
        "nik": "3273010101900001",
        "name": short_name(LONGEST_NAME),
        "facility": facility,
        "code": "W" * 8,
        "day_text": "Sab 28/11",
        "session": "08:00-12:00",
        "attempts_left": "3",
        "locked_until": "23:59",
        "reason": reason[lang].rstrip("."),
        "advice": advice[lang],
        "retry_on": "Sab 28/11",
        "dose2_due": "Sab 28/11",
        "ticket_state": max(states, key=len),
    }


def worst_items(source: str) -> list[list[str]]:
    if source == "facilities":
        return [[f"F{i}", to_gsm(LONG_FACILITY)[:FACILITY_NAME_CHARS]] for i in range(60)]
    return [[f"2026-11-28|pagi{i}", "Sab 28/11 08:00-12:00 (9999)"] for i in range(28)]


def views(engine: Engine, lang: str):
    """(screen id, error, Session) for every screen and screening question, worst values."""
    groups = engine.context.registry.screening_groups()
    for sid, screen in engine.menus.screens.items():
        if screen.type == "action":
            continue
        positions = range(len(groups)) if sid == "screening" else [0]
        for pos in positions:
            errors = [""] if screen.type == "end" else ["", "invalid"]
            for error in ["", "@error"] if screen.type == "input" else errors:
                session = Session(lang, screen=sid, page=pos, vars=worst_vars(engine, lang, sid))
                if screen.type == "list":
                    session.items = worst_items(screen.source)
                yield sid, error, session


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("limit", [160, 120])
def test_every_screen_fits_and_is_gsm7(engine: Engine, lang: str, limit: int) -> None:
    too_long: list[str] = []
    layout = UssdLayout(engine.menus, limit)
    for sid, error, session in views(engine, lang):
        v = build_view(engine.context, session, error)
        pages = layout.pages(v)
        shown: set[int] = set()
        for page in range(pages):
            session.page = page
            v = build_view(engine.context, session, error)
            text = compose_ussd(v, engine.menus, limit)
            assert is_gsm(text), (sid, text)
            if septets(text) > limit:
                too_long.append(f"{sid}{'+error' if error else ''}: {septets(text)}\n{text}")
            shown |= {int(n) for n in re.findall(r"^(\d+)\. ", text, re.M) if 0 < int(n) < 98}
        if v.kind is ViewKind.LIST:
            assert shown == set(range(1, len(v.items) + 1)), sid  # paging loses nothing
        for messages in (False, True):  # the long form, and SMS's own words
            sms = build_view(engine.context, session, error, long_form=True, messages=messages)
            assert is_gsm(render_sms(sms, engine.menus)), (sid, messages)
    # Lists must page within any limit; fixed screens are written for 160 septets.
    if limit == 160:
        assert not too_long, "\n\n".join(too_long)
    else:
        assert not [t for t in too_long if t.split(":")[0].split("+")[0] in LIST_SCREENS], too_long


LIST_SCREENS = {"facility_list", "slot_list", "slot_full", "slot_again"}


def sms_view(engine: Engine, session: Session, error: str) -> View:
    """A screen as SMS and WhatsApp show it: long form, in the message channels' words."""
    return build_view(engine.context, session, error, long_form=True, messages=True)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_sms_reply_fits_two_segments(engine: Engine, lang: str) -> None:
    """The schedule question was one reply of ~1,000 characters: seven SMS segments."""
    layout = SmsLayout(engine.menus)
    too_long: list[str] = []
    for sid, error, session in views(engine, lang):
        pages = layout.pages(sms_view(engine, session, error))
        shown: set[int] = set()
        for page in range(pages):
            session.page = page if engine.menus.screens[sid].type == "list" else session.page
            text = layout.text(sms_view(engine, session, error))
            encoding, parts = count_parts(text)
            if encoding != "gsm7" or parts > 2:
                too_long.append(f"{sid}{'+error' if error else ''} p{page}: {encoding} {parts}")
            shown |= {int(n) for n in re.findall(r"^\w+ (\d+) \w+ ", text, re.M)}
        if engine.menus.screens[sid].type == "list":
            assert shown - {0, 98} == set(range(1, len(session.items) + 1)), sid
    assert not too_long, too_long
    values = {"help_email": engine.context.settings.help_email}
    not_listed = engine.menus.text("not_listed_sms", lang).format(**values)
    assert count_parts(not_listed) in (("gsm7", 1), ("gsm7", 2))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_stricter_gateway_cuts_the_question_never_the_options(engine: Engine, lang: str) -> None:
    limit = 120
    for sid, error, session in views(engine, lang):
        v = build_view(engine.context, session, error)
        text = render_ussd(v, engine.menus, limit)
        assert septets(text) <= limit, (sid, text)
        if v.kind in ("menu", "yesno"):
            count = len(v.options) if v.kind == "menu" else 2
            shown = re.findall(r"^(\d+)\. ", text, re.M)
            assert shown == [str(n) for n in range(1, count + 1)], (sid, text)


def test_ticket_sms_is_gsm7_in_both_languages(engine: Engine) -> None:
    for lang in ("id", "en"):
        text = engine.context.lookups.ticket_text(worst_vars(engine, lang), lang)
        assert is_gsm(text) and "WWWWWWWW" in text and "/tickets/WWWWWWWW.png" in text


def test_non_gsm_facility_names_are_cleaned() -> None:
    assert to_gsm("Klinik Sôhat “Ibu” – Bandung`") == 'Klinik Sohat "Ibu" - Bandung\''
    assert is_gsm(to_gsm("Puskesmas 東京 ✓"))


# screen: what USSD says, and the keyword SMS and WhatsApp name instead, per language.
KEYWORD_WORDING = {
    "already": {"id": ("Ubah lewat menu 3.", "kirim BATAL"), "en": ("in menu 3", "send CANCEL")},
    "no_slots": {"id": ("lewat *119#", "kirim VAKSIN"), "en": ("via *119#", "send VACCINE")},
    "cancelled": {"id": ("lewat *119#", "kirim VAKSIN"), "en": ("via *119#", "send VACCINE")},
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_sms_and_whatsapp_name_a_keyword_where_ussd_names_its_menu(
    engine: Engine, lang: str
) -> None:
    """SMS and WhatsApp were told "Ubah lewat menu 3" or "pilih lokasi lain lewat *119#",
    where there is no menu 3: there the screen names the keyword; USSD keeps its text."""
    for sid, wording in KEYWORD_WORDING.items():
        ussd_words, keyword = wording[lang]
        session = Session(lang, screen=sid, vars=worst_vars(engine, lang, sid))
        ussd = render_ussd(build_view(engine.context, session), engine.menus, 160)
        message = sms_view(engine, session, "").body
        assert ussd_words in ussd and keyword not in ussd, (sid, ussd)
        assert keyword in message and ussd_words not in message, (sid, message)
    wrong = []  # and no screen of theirs sends anyone to a menu, or to *119# but help
    for sid, error, session in views(engine, lang):
        body = sms_view(engine, session, error).body
        if re.search(r"\bmenu \d", body) or ("*119#" in body and sid != "help"):
            wrong.append(f"{sid}: {body}")
    assert not wrong, wrong


@pytest.mark.parametrize("lang", ["id", "en"])
def test_help_and_the_language_keywords_answer_in_one_sms(engine: Engine, lang: str) -> None:
    """Both name the keywords of the language they are in, and the other language's own."""
    layout = SmsLayout(engine.menus)
    mine, other = ("VAKSIN", "ENGLISH") if lang == "id" else ("VACCINE", "INDONESIA")
    for sid in ("help", "language_set"):
        text = layout.text(sms_view(engine, Session(lang, screen=sid), ""))
        assert count_parts(text) == ("gsm7", 1), (sid, text)
        assert mine in text and other in text, (sid, text)
