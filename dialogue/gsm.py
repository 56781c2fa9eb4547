"""GSM 03.38 (GSM-7) text: what fits a USSD screen or an SMS without UCS-2.

One character outside the GSM-7 alphabet forces UCS-2 and halves the room, so
every screen is cleaned with :func:`to_gsm` (accents stripped, the rest replaced)
and measured in septets with :func:`septets` (extension characters count 2).
"""

from __future__ import annotations

import unicodedata

# GSM 03.38 basic table, index = septet value. 0x1B is the escape to the extension table.
# The one copy of the alphabet: screens are measured with it and the SMS channel
# (smpp/encoding.py) encodes with it.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(GSM_BASIC) == 128 and GSM_BASIC[0x5F] == "§"
# Extension table: these cost 0x1B + code (two septets). 0x0A is form feed.
GSM_EXT = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
BASIC = frozenset(GSM_BASIC) - {"\x1b"}
EXTENSION = frozenset(GSM_EXT)
# Common look-alikes mapped before accents are stripped.
_REPLACE = str.maketrans(
    {"`": "'", "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\t": " "}
)


def is_gsm(text: str) -> bool:
    return all(c in BASIC or c in EXTENSION for c in text)


_DROP_EXTENSION = str.maketrans(dict.fromkeys(EXTENSION))
_ASCII_EXTENSION = "".join(sorted(c for c in EXTENSION if c.isascii())).encode()


def septets(text: str) -> int:
    """Length in GSM-7 septets: extension characters take an escape plus the character."""
    if text.isascii():  # nearly every screen: bytes.translate is many times faster
        raw = text.encode()
        return 2 * len(raw) - len(raw.translate(None, _ASCII_EXTENSION))
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
