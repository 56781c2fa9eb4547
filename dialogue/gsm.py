"""GSM 03.38 (GSM-7) text: what fits a USSD screen or an SMS without UCS-2.

One character outside the GSM-7 alphabet forces UCS-2 and halves the room, so
every screen is cleaned with :func:`to_gsm` (accents stripped, the rest replaced)
and measured in septets with :func:`septets` (extension characters count 2).
"""

from __future__ import annotations

import unicodedata

BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = frozenset("^{}\\[~]|€\f")
# Common look-alikes mapped before accents are stripped.
_REPLACE = str.maketrans(
    {"`": "'", "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\t": " "}
)


def is_gsm(text: str) -> bool:
    return all(c in BASIC or c in EXTENSION for c in text)


_DROP_EXTENSION = str.maketrans(dict.fromkeys(EXTENSION))


def septets(text: str) -> int:
    """Length in GSM-7 septets: extension characters take an escape plus the character."""
    return 2 * len(text) - len(text.translate(_DROP_EXTENSION))


def to_gsm(text: str) -> str:
    """The text in GSM-7 only: fast path for plain ASCII, else fold accents, then '?'."""
    if text.isascii() and "`" not in text and "\t" not in text:
        return text
    text = text.translate(_REPLACE)
    out = []
    for c in text:
        if c in BASIC or c in EXTENSION:
            out.append(c)
            continue
        folded = unicodedata.normalize("NFKD", c).encode("ascii", "ignore").decode()
        out.append(folded if folded and is_gsm(folded) else "?")
    return "".join(out)


def clip(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` septets, marking the cut with '..'."""
    if septets(text) <= limit:
        return text
    while text and septets(text) > limit - 2:
        text = text[:-1]
    return text.rstrip() + ".."
