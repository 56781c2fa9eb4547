"""Indonesian mobile numbers: `0812…`, `+62812…`, `62812…`, spaces/dashes allowed -> `62812…`.

Mobile numbers start 08 nationally (628 internationally) and have 10-13 digits
with the leading 0, so 11-14 digits in the 62 form. Landlines (e.g. 021…) and
foreign numbers are refused with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

_STRIP = str.maketrans("", "", " -.()\t")


@dataclass(frozen=True, slots=True)
class PhoneResult:
    ok: bool
    value: str = ""  # normalised 628... when ok
    reason: str = ""


def phone_problem_or_value(raw: str) -> tuple[str, str | None]:
    """(normalised, None) or ("", reason). The importer's fast path."""
    p = raw.strip()
    if not p.lstrip("+").isdigit():  # separators to drop (gateways send bare digits)
        p = p.translate(_STRIP)
    if not p:
        return "", "phone number is empty"
    if p.startswith("+"):
        p = p[1:]
        if not p.startswith("62"):
            return "", "not an Indonesian number (+62)"
    if not (p.isascii() and p.isdigit()):
        return "", "phone must contain digits only"
    if p.startswith("0"):
        p = "62" + p[1:]
    elif p.startswith("8"):
        p = "62" + p
    elif not p.startswith("62"):
        return "", "not an Indonesian number (0… or +62…)"
    if p[2:3] != "8" or p[3:4] == "0":
        return "", "not an Indonesian mobile number (08…)"
    if not 11 <= len(p) <= 14:
        return "", "wrong length for an Indonesian mobile number"
    return p, None


def normalise_phone(raw: str) -> PhoneResult:
    value, problem = phone_problem_or_value(raw)
    if problem:
        return PhoneResult(False, reason=problem)
    return PhoneResult(True, value=value)
