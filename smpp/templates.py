"""Blast templates: placeholders, lint (encoding, parts, UCS-2 culprits), rendering."""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass, field

from core.privacy import mask_nik
from smpp import encoding

PLACEHOLDERS = ("first_name", "nik_masked", "keyword", "short_code")
# Worst-case sample values used to measure a template's size.
_SAMPLE = {"first_name": "Kurniawati", "nik_masked": mask_nik("3201234567890123")}


class TemplateError(ValueError):
    """The template cannot be used (unknown placeholder, bad braces, empty)."""


@dataclass(frozen=True)
class Lint:
    encoding: str
    parts: int
    characters: int
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "encoding": self.encoding,
            "parts": self.parts,
            "characters": self.characters,
            "warnings": self.warnings,
        }


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, f"U+{ord(ch):04X}")
    return f"{ch!r} ({name})"


def check(template: str) -> list[str]:
    """The placeholder names used; raises TemplateError for unknown ones."""
    if not template.strip():
        raise TemplateError("empty template")
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(
            f"bad braces in template: {exc} (write {{{{ or }}}} for a brace)"
        ) from exc
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conv:
            raise TemplateError(
                f"unknown placeholder {{{name}}}: use "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )
        names.append(name)
    return names


def lint(template: str, keyword: str, short_code: str) -> Lint:
    check(template)
    sample = render(
        template,
        first_name=_SAMPLE["first_name"],
        nik="3201234567890123",
        keyword=keyword,
        short_code=short_code,
    )
    enc, parts = encoding.count_parts(sample)
    warnings = []
    culprits = encoding.non_gsm_chars(template)
    gsm_parts = encoding.count_parts(_gsm_fold(sample))[1]
    if culprits:
        warnings.append(
            "UCS-2 forced by "
            + ", ".join(_describe(c) for c in culprits)
            + (
                f": {parts} parts per message instead of {gsm_parts}"
                if parts > gsm_parts
                else ": one part holds 70 characters instead of 160"
            )
            + "; replace them to keep GSM-7"
        )
    if parts > 1:
        warnings.append(f"long message: {parts} parts per recipient")
    return Lint(enc, parts, len(sample), warnings)


def _gsm_fold(text: str) -> str:
    return "".join(c if encoding.gsm_cost(c) else "?" for c in text)


def first_name(full_name: str) -> str:
    parts = full_name.split()
    return parts[0].title() if parts else ""


class BlastText:
    """A campaign's template with {keyword} and {short_code} filled in once: per recipient
    only {first_name} and {nik_masked} are formatted (the same text as :func:`render`),
    and, for GSM-7, only they are encoded (the rest of the septets are ready)."""

    def __init__(self, template: str, keyword: str, short_code: str) -> None:
        fixed = {"keyword": keyword, "short_code": short_code}
        pieces: list[str] = []
        # GSM-7 septets of the fixed text, and the placeholder after each piece ("" at the end).
        self._septets: list[tuple[bytes, str]] | None = []
        literal_run = ""
        for literal, name, _, _ in string.Formatter().parse(template):
            pieces.append(_escape(literal))
            literal_run += literal
            if name in fixed:
                pieces.append(_escape(fixed[name]))
                literal_run += fixed[name]
            elif name is not None:
                pieces.append("{" + name + "}")
                self._add_septets(literal_run, name)
                literal_run = ""
        self._add_septets(literal_run, "")
        self._format = "".join(pieces).format

    def _add_septets(self, literal: str, name: str) -> None:
        septets = encoding.gsm7_septets(literal)
        if septets is None or self._septets is None:
            self._septets = None  # the template itself needs UCS-2
        else:
            self._septets.append((septets, name))

    def render(self, first_name: str, nik: str) -> str:
        return self._format(first_name=first_name, nik_masked=mask_nik(nik) if nik else "")

    def septets(self, first_name: str, nik: str) -> bytes | None:
        """The text as GSM-7 septets (any length); None when it needs UCS-2."""
        if self._septets is None:
            return None
        values = {"first_name": first_name, "nik_masked": mask_nik(nik) if nik else ""}
        out = []
        for fixed, name in self._septets:
            out.append(fixed)
            if name:
                value = encoding.gsm7_septets(values[name])
                if value is None:
                    return None
                out.append(value)
        return b"".join(out)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def render(template: str, *, first_name: str, nik: str, keyword: str, short_code: str) -> str:
    return template.format_map(
        {
            "first_name": first_name,
            "nik_masked": mask_nik(nik) if nik else "",
            "keyword": keyword,
            "short_code": short_code,
        }
    )
