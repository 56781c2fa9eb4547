"""Text on the wire: GSM 03.38 (unpacked septets, one per octet), Latin-1 and UCS-2.

Pure Python. Splitting never cuts a GSM escape pair (extension characters cost two
septets) nor a UTF-16 surrogate pair (emoji), which `smpplib.gsm.make_parts` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogue.gsm import GSM_BASIC, GSM_EXT  # the one copy of the alphabet

_BASIC_CODE = {ch: i for i, ch in enumerate(GSM_BASIC) if i != 0x1B}
_EXT_CHAR = {code: ch for ch, code in GSM_EXT.items()}
_GSM_ALL = frozenset(_BASIC_CODE) | frozenset(GSM_EXT)
# str.translate tables: text -> one code point per septet, then latin-1 bytes (C speed).
_TO_SEPTETS = {ord(ch): chr(code) for ch, code in _BASIC_CODE.items()}
_TO_SEPTETS.update({ord(ch): "\x1b" + chr(code) for ch, code in GSM_EXT.items()})

GSM7 = "gsm7"
UCS2 = "ucs2"
LATIN1 = "latin1"

DC_DEFAULT = 0x00
DC_LATIN1 = 0x03
DC_UCS2 = 0x08

# (single-part limit, per-part limit with an 8-bit reference UDH) in units of the encoding:
# septets for GSM-7, UTF-16 code units for UCS-2.
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


def gsm_cost(ch: str) -> int:
    """Septets for one character: 1, 2 (extension) or 0 when it is not in GSM 03.38."""
    if ch in _BASIC_CODE:
        return 1
    if ch in GSM_EXT:
        return 2
    return 0


def non_gsm_chars(text: str) -> list[str]:
    """Characters that force UCS-2, in order of first appearance."""
    seen: dict[str, None] = {}
    for ch in text:
        if not gsm_cost(ch):
            seen.setdefault(ch, None)
    return list(seen)


def choose_encoding(text: str) -> str:
    return GSM7 if _GSM_ALL.issuperset(text) else UCS2


def encode_gsm7(text: str) -> bytes:
    """Unpacked septets, one per octet. Only for text that `choose_encoding` calls GSM-7."""
    return text.translate(_TO_SEPTETS).encode("latin-1", errors="replace")


def decode_gsm7(data: bytes) -> str:
    out: list[str] = []
    escape = False
    for b in data:
        b &= 0x7F
        if escape:
            # An unknown extension code shows the basic character (GSM 03.38 says so).
            out.append(_EXT_CHAR.get(b, GSM_BASIC[b] if b != 0x1B else " "))
            escape = False
        elif b == 0x1B:
            escape = True
        else:
            out.append(GSM_BASIC[b])
    return "".join(out)


def gsm7_septets(text: str) -> bytes | None:
    """Unpacked septets of a GSM-7 text (any length); None when it needs UCS-2."""
    if not _GSM_ALL.issuperset(text):
        return None
    return text.translate(_TO_SEPTETS).encode("latin-1")


SINGLE_GSM7 = LIMITS[GSM7][0]  # septets in one part


def encode_ucs2(text: str) -> bytes:
    return text.encode("utf-16-be")


def decode(data: bytes, data_coding: int, default: str = GSM7) -> str:
    """Decode an incoming short message by its `data_coding` (never raises)."""
    dc = data_coding & 0xFF
    if dc == DC_DEFAULT:
        return data.decode("latin-1") if default == LATIN1 else decode_gsm7(data)
    if dc == 0x01:  # IA5/ASCII
        return data.decode("ascii", errors="replace")
    if dc == DC_LATIN1:
        return data.decode("latin-1")
    if dc & 0xF0 == 0xF0:  # message class coding: bit 2 set = 8-bit data, else GSM-7
        return data.decode("latin-1") if dc & 0x04 else decode_gsm7(data)
    if dc & 0xC0 == 0x00:  # general data coding: bits 3-2 name the alphabet
        alphabet = (dc >> 2) & 0x03
        if alphabet == 0:
            return decode_gsm7(data)
        if alphabet == 2:
            return data[: len(data) & ~1].decode("utf-16-be", errors="replace")
    return data.decode("latin-1")


@dataclass(frozen=True, slots=True)
class Encoded:
    encoding: str
    data_coding: int
    parts: list[bytes]  # payload of each part, without UDH

    @property
    def single(self) -> bool:
        return len(self.parts) == 1


def _split_units(text: str, encoding: str, per_part: int) -> list[str]:
    """Split text into chunks of at most `per_part` units, never inside a pair."""
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for ch in text:
        cost = gsm_cost(ch) if encoding == GSM7 else (2 if ord(ch) > 0xFFFF else 1)
        if used + cost > per_part:
            chunks.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += cost
    if current or not chunks:
        chunks.append("".join(current))
    return chunks


def units(text: str, encoding: str) -> int:
    if encoding == GSM7:
        return len(text.translate(_TO_SEPTETS))
    return len(text.encode("utf-16-be")) // 2


def encode_message(text: str, *, gsm_dc0: bool = True, single_part: bool = False) -> Encoded:
    """Choose GSM-7 or UCS-2 and split into parts that leave room for a concatenation UDH.

    `gsm_dc0` False means the SMSC reads data_coding 0 as Latin-1: GSM text then goes
    out as Latin-1 (data_coding 3) when it fits. `single_part` keeps the whole text in
    one payload (for `message_payload`).
    """
    encoding = choose_encoding(text)
    single, per_part = LIMITS[encoding]
    if single_part or units(text, encoding) <= single:
        chunks = [text]
    else:
        chunks = _split_units(text, encoding, per_part)
    if encoding == GSM7:
        if not gsm_dc0:
            try:
                return Encoded(LATIN1, DC_LATIN1, [c.encode("latin-1") for c in chunks])
            except UnicodeEncodeError:
                pass
        return Encoded(GSM7, DC_DEFAULT, [encode_gsm7(c) for c in chunks])
    return Encoded(UCS2, DC_UCS2, [encode_ucs2(c) for c in chunks])


def count_parts(text: str) -> tuple[str, int]:
    """(encoding, number of parts) for a text, as `encode_message` would send it."""
    enc = encode_message(text)
    return enc.encoding, len(enc.parts)
