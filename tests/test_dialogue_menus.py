"""The menus are validated at start-up: a dangling reference fails loudly, naming the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogue.actions import ACTIONS
from dialogue.menus import MenuError, load_menus

MENUS = Path(__file__).resolve().parent.parent / "menus" / "dialogue.toml"


def test_the_shipped_menus_are_valid() -> None:
    menus = load_menus(MENUS, ACTIONS)
    assert menus.start in menus.screens and "VAKSIN" in menus.keywords
    languages = {word: kw.lang for word, kw in menus.keywords.items()}
    assert languages["VAKSIN"] == languages["INDONESIA"] == "id"
    assert languages["VACCINE"] == languages["ENGLISH"] == "en"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('no = { next = "not_hw" }', 'no = { next = "nowhere" }', "nowhere"),
        ('action = "verify_nik"', 'action = "verify_nikk"', "unknown action"),
        (
            'ok = "after_verify", wrong = "nik_retry",',
            'ok = "after_verify",',
            "not routed",
        ),
        (
            'en = "Are you a health worker?"',
            'fr = "Etes-vous soignant ?"',
            "missing text for language 'en'",
        ),
        ('type = "yesno"', 'type = "question"', "type must be one of"),
        ("pattern = '^\\d{6}$'", "pattern = '^(\\d{6}$'", "pattern"),
        ('web = { screen = "nik"', 'web = { screen = "nikk"', "entries.web: screen 'nikk'"),
        # Every keyword names its language, one the texts have; letters only (a space or
        # a digit is removed from every message before it is matched: never found).
        (
            'VACCINE = { screen = "hw_confirm", lang = "en" }',
            'VACCINE = { screen = "hw_confirm" }',
            "keywords.VACCINE: lang must be one of id, en",
        ),
        (
            'HELP = { screen = "help", lang = "en" }',
            'HELP = { screen = "help", lang = "fr" }',
            "keywords.HELP: lang must be one of id, en",
        ),
        ("BANTUAN = {", '"MINTA BANTUAN" = {', "MINTA BANTUAN: a keyword is letters A-Z only"),
        ('web = { screen = "nik",', 'web = { screen = "nik", lang = "en",', "only keywords"),
        (
            'message_text = { id = "Jadwal dibatalkan.',
            'message_text = { fr = "Jadwal dibatalkan.',
            "screens.cancelled.message_text: missing text for language 'id'",
        ),
    ],
)
def test_broken_menus_fail_loudly(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = MENUS.read_text(encoding="utf-8")
    assert old in text, old
    broken = tmp_path / "menus.toml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(MenuError, match=message.replace("?", r"\?")):
        load_menus(broken, ACTIONS)


@pytest.mark.parametrize(
    ("old", "new", "found"),
    [("version = 1\n", "version = 2\n", "version 2"), ("version = 1\n", "", "no `version`")],
)
def test_a_menu_file_of_another_version_is_refused(
    tmp_path: Path, old: str, new: str, found: str
) -> None:
    text = MENUS.read_text(encoding="utf-8")
    assert old in text
    other = tmp_path / "menus.toml"
    other.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(MenuError, match=f"{found} is not supported; supported version.s.: 1"):
        load_menus(other, ACTIONS)
