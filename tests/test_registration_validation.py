"""NIK, phone, age and screening-data validation: tables of what a user could type."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from core.phone import normalise_phone
from registration.age import age_on
from registration.models import ScreeningOutcome, ScreeningResult
from registration.nik import validate_nik
from registration.screening import (
    ScreeningDataError,
    evaluate,
    load_screening,
    parse_bands,
    parse_groups,
)

SCREENING_FILE = Path(__file__).resolve().parent.parent / "menus" / "screening.toml"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3273011503850001", "3273011503850001"),  # man, 15 March 1985
        ("3273 0155 0385 0001", "3273015503850001"),  # woman (15 + 40), spaces
        ("32.73.01.550385.0001", "3273015503850001"),  # dots
        ("3273-01-710385-0001", "3273017103850001"),  # woman born on the 31st, dashes
        ("1271012902000001", "1271012902000001"),  # 29 February
        ("9201010101990001", "9201010101990001"),  # Papua Barat (92)
    ],
)
def test_valid_niks_are_normalised(raw: str, expected: str) -> None:
    result = validate_nik(raw)
    assert result.ok, result.reason
    assert result.value == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("327301150385001", "16 digits"),  # 15 digits
        ("32730115038500011", "16 digits"),  # 17 digits
        ("3273O11503850001", "16 digits"),  # letter O
        ("", "16 digits"),
        ("2073011503850001", "province"),  # 20 is no province
        ("9373011503850001", "province"),  # 93 did not exist in 2021
        ("3273013203850001", "birth date"),  # day 32
        ("3273017203850001", "birth date"),  # woman's day 72 = 32
        ("3273014003850001", "birth date"),  # day 40 = 0
        ("3273013102850001", "birth date"),  # 31 February
        ("3273011513850001", "birth date"),  # month 13
        ("3273011500850001", "birth date"),  # month 0
    ],
)
def test_invalid_niks_say_why(raw: str, reason: str) -> None:
    result = validate_nik(raw)
    assert not result.ok
    assert reason in result.reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("081234567890", "6281234567890"),
        ("+6281234567890", "6281234567890"),
        ("6281234567890", "6281234567890"),
        ("+62 812-3456-7890", "6281234567890"),
        ("0812 3456 789", "628123456789"),
        ("(0857) 1234-5678", "6285712345678"),
    ],
)
def test_phones_are_normalised(raw: str, expected: str) -> None:
    result = normalise_phone(raw)
    assert result.ok, result.reason
    assert result.value == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("02112345678", "mobile"),  # Jakarta landline
        ("+6512345678", "Indonesian"),  # Singapore
        ("0812345", "length"),  # too short
        ("08123456789012345", "length"),  # too long
        ("0812abc45678", "digits"),
        ("", "empty"),
        ("6280123456789", "mobile"),  # 0801 is no mobile prefix
    ],
)
def test_bad_phones_say_why(raw: str, reason: str) -> None:
    result = normalise_phone(raw)
    assert not result.ok
    assert reason in result.reason


def load_groups(path: Path):
    return load_screening(path).groups


def test_screening_file_fits_a_ussd_screen() -> None:
    groups = load_groups(SCREENING_FILE)
    assert 4 <= len(groups) <= 6
    for group in groups:
        for lang in ("id", "en"):
            screen = group.prompt[lang] + "\n1. Ya\n2. Tidak\n0. Kembali"
            assert len(screen) <= 160
            assert group.prompt[lang].isascii()
            assert len(group.reason[lang]) <= 100 and len(group.advice[lang]) <= 100


def _group(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "g",
        "on_yes": "deferred",
        "defer_days": 7,
        "prompt": {"id": "Batuk?", "en": "Cough?"},
        "reason": {"id": "Batuk", "en": "Cough"},
        "advice": {"id": "Tunggu", "en": "Wait"},
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prompt": {"id": "x" * 121, "en": "ok"}}, "limit 120"),
        ({"prompt": {"id": "Demam? {ya}", "en": "ok"}}, "GSM-7"),
        ({"prompt": {"id": "Batuk?"}}, "en: missing"),
        ({"on_yes": "maybe"}, "on_yes"),
        ({"on_yes": "deferred", "defer_days": 0}, "defer_days"),
        ({"advice": {"id": "é", "en": "ok"}}, "GSM-7"),
    ],
)
def test_bad_screening_data_fails_loudly(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ScreeningDataError, match=message):
        parse_groups({"group": [_group(**overrides)]})


def test_most_severe_outcome_wins() -> None:
    groups = load_groups(SCREENING_FILE)
    today = date(2021, 1, 13)
    no = {g.group_id: False for g in groups}
    assert evaluate(groups, no, today).outcome is ScreeningOutcome.ELIGIBLE
    # Two deferrals: the later retry date wins.
    both = {**no, "gejala": True, "terkendali": True}
    result = evaluate(groups, both, today)
    assert result.outcome is ScreeningOutcome.DEFERRED
    assert (result.reason_id, result.retry_on) == ("terkendali", date(2021, 2, 12))
    # Not eligible beats a deferral, whatever the order.
    worst = evaluate(groups, {**both, "kronis": True}, today)
    assert (worst.outcome, worst.reason_id) == (ScreeningOutcome.NOT_ELIGIBLE, "kronis")
    # A screening never completed (no "yes", a screen unanswered) is not a pass.
    partial = {g.group_id: False for g in groups[1:]}
    incomplete = ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, "incomplete")
    assert evaluate(groups, partial, today) == incomplete


def test_the_first_yes_decides_and_the_screens_after_it_are_not_held_against_anyone() -> None:
    """The dialogue stops at the first "yes": a cough is a 14-day deferral, not the
    "not eligible" of the unasked screens after it."""
    groups = load_groups(SCREENING_FILE)
    today = date(2021, 1, 13)
    asked: dict[str, bool] = {}
    for group in groups:  # "no" to every screen before this one, "yes" to it
        result = evaluate(groups, {**asked, group.group_id: True}, today)
        retry = today + timedelta(days=group.defer_days) if group.defer_days else None
        assert result == ScreeningResult(group.on_yes, group.group_id, retry), group.group_id
        asked[group.group_id] = False


@pytest.mark.parametrize(
    ("nik", "day", "age"),
    [
        ("3273011503850001", date(2021, 1, 13), 35),  # 15 March 1985
        ("3273015503850001", date(2021, 1, 13), 35),  # a woman: day + 40
        ("3273011401610001", date(2021, 1, 13), 59),  # 60 tomorrow
        ("3273011301610001", date(2021, 1, 13), 60),  # 60 today
        ("3273010101030001", date(2021, 1, 13), 18),  # 2003, not 1903
        ("3273011503210001", date(2021, 1, 13), 99),  # "21" not born yet in 2021: 1921
        ("3273012902040001", date(2021, 2, 28), 16),  # 29 February: not yet on the 28th
        ("3273012902040001", date(2021, 3, 1), 17),
    ],
)
def test_the_age_comes_from_the_niks_birth_date(nik: str, day: date, age: int) -> None:
    assert age_on(nik, day) == age


TEXTS = {"reason": {"id": "Usia", "en": "Age"}, "advice": {"id": "Tunggu", "en": "Wait"}}


def _band(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "semua", "min_age": 0, "outcome": "eligible"}
    base["dose_interval_days"] = 14
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([_band(min_age=18)], "min_age must be 0"),
        ([_band(max_age=59)], "last age_band needs no max_age"),
        ([_band(max_age=17), _band(id="b", min_age=20)], "min_age must be 18"),
        ([_band(max_age=17), _band(id="b", min_age=18, max_age=10)], "max_age must be"),
        ([_band(dose_interval_days=0)], "dose_interval_days"),
        ([_band(outcome="not_eligible")], "reason: needs id and en"),
        ([_band(outcome="deferred", defer_days=0)], "defer_days"),
        ([_band(outcome="maybe")], "outcome must be one of"),
        ([_band(id="incomplete")], "lower_snake_case"),
        ([_band(max_age=17, outcome="not_eligible", **TEXTS), _band(id="b", min_age=18,
          outcome="not_eligible", **TEXTS)], "no age_band is eligible"),
    ],
)  # fmt: skip
def test_bad_age_bands_fail_loudly(bands: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ScreeningDataError, match=message):
        parse_bands({"age_band": bands})


def test_the_shipped_age_bands_are_the_january_2021_phase() -> None:
    bands = load_screening(SCREENING_FILE).bands
    eligible = [a for a in range(0, 120) if bands.of_age(a).outcome == "eligible"]
    assert (eligible[0], eligible[-1], len(eligible)) == (18, 59, 42)
    assert (bands.of_age(35).dose_interval_days, bands.of_age(62).dose_interval_days) == (14, 28)


@pytest.mark.parametrize("version", ["version = 1\n", 'version = "2"\n', "version = true\n", ""])
def test_screening_file_of_another_version_is_refused(tmp_path: Path, version: str) -> None:
    groups = SCREENING_FILE.read_text(encoding="utf-8").replace("version = 2\n", "")
    path = tmp_path / "screening.toml"
    path.write_text(version + groups, encoding="utf-8")
    with pytest.raises(ScreeningDataError, match=r"screening\.toml: version .* \(supported: 2\)"):
        load_groups(path)
    path.write_text("version = 2\n" + groups, encoding="utf-8")
    assert len(load_groups(path)) == len(load_groups(SCREENING_FILE))
