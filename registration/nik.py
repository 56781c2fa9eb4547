"""NIK (Nomor Induk Kependudukan) validation: `PP RR SS DDMMYY NNNN`, no check digit.

What can be checked: 16 digits (after stripping spaces, dots and dashes), a
province code that existed in 2021, and a birth day/month where women carry
day + 40. The importer validates a million rows, so the common case (already 16
clean digits) is a couple of set lookups: every valid "DDMM" is precomputed.
"""

from __future__ import annotations

from dataclasses import dataclass

# Province codes in use in 2021 (domain.md): 11-19, 21, 31-36, 51-53, 61-65, 71-76, 81-82, 91-92.
PROVINCE_CODES = frozenset(
    f"{code:02d}"
    for code in [
        *range(11, 20),
        21,
        *range(31, 37),
        *range(51, 54),
        *range(61, 66),
        *range(71, 77),
        81,
        82,
        91,
        92,
    ]
)

# Days per month; February 29 is allowed because YY does not say the century.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

# Every valid "DDMM" (men: day 01-31, women: day 41-71).
VALID_DDMM = frozenset(
    f"{day + offset:02d}{month:02d}"
    for month, days in enumerate(_MONTH_DAYS, start=1)
    for day in range(1, days + 1)
    for offset in (0, 40)
)

_STRIP = str.maketrans("", "", " .-\t")


@dataclass(frozen=True, slots=True)
class NikResult:
    ok: bool
    value: str = ""  # the normalised 16 digits when ok
    reason: str = ""  # why not, when not ok


def nik_problem(nik: str) -> str | None:
    """Why an already-stripped NIK is invalid, or None. The importer's fast path."""
    if len(nik) != 16 or not (nik.isascii() and nik.isdigit()):
        return "NIK must be 16 digits"
    if nik[:2] not in PROVINCE_CODES:
        return f"unknown province code {nik[:2]}"
    if nik[6:10] not in VALID_DDMM:
        return f"invalid birth date {nik[6:8]}-{nik[8:10]} in NIK"
    return None


def validate_nik(raw: str) -> NikResult:
    """Normalise (strip spaces, dots, dashes) and validate a NIK."""
    nik = raw.strip().translate(_STRIP)
    problem = nik_problem(nik)
    if problem:
        return NikResult(False, reason=problem)
    return NikResult(True, value=nik)


def is_female(nik: str) -> bool:
    """Women's NIKs carry birth day + 40."""
    return int(nik[6:8]) > 40
