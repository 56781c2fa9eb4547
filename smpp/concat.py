"""Long messages: concatenation headers out, reassembly in.

Reassembly state is in-process (one SMS worker per deployment holds the binds),
bounded by `max_sets`, by `per_sender` sets for any one phone (so one phone sending
first parts that never complete cannot push out everybody else's), and a timeout: a
set still incomplete after `timeout` seconds is dropped and logged. A restart loses
parts of sets in progress; the sender's phone shows nothing, so the user simply sends
again (we answer only complete text). A complete set whose message could not be
handled for now is put back without its last part (:meth:`Reassembler.put_back`): the
SMSC sends that part again and it completes the set again.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from smpp import codec

log = logging.getLogger(__name__)

ESM_UDHI = 0x40


def udh_8bit(ref: int, total: int, seq: int) -> bytes:
    return bytes((5, 0x00, 3, ref & 0xFF, total, seq))


def udh_16bit(ref: int, total: int, seq: int) -> bytes:
    return bytes((6, 0x08, 4, (ref >> 8) & 0xFF, ref & 0xFF, total, seq))


def sar_tlvs(ref: int, total: int, seq: int) -> bytes:
    return (
        codec.tlv(codec.TLV_SAR_MSG_REF_NUM, ref & 0xFFFF, 2)
        + codec.tlv(codec.TLV_SAR_TOTAL_SEGMENTS, total, 1)
        + codec.tlv(codec.TLV_SAR_SEGMENT_SEQNUM, seq, 1)
    )


@dataclass(frozen=True, slots=True)
class PartInfo:
    ref: int
    total: int
    seq: int


def split_udh(esm_class: int, payload: bytes) -> tuple[PartInfo | None, bytes]:
    """(concatenation info or None, payload without the UDH)."""
    if not esm_class & ESM_UDHI or not payload:
        return None, payload
    udhl = payload[0]
    if udhl + 1 > len(payload):
        raise codec.PduError("UDH longer than the message")
    header, rest = payload[1 : udhl + 1], payload[udhl + 1 :]
    pos = 0
    info = None
    while pos + 2 <= len(header):
        iei, length = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + length]
        if len(value) < length:  # an element cut short: the SMSC must not retry this
            raise codec.PduError(f"UDH element 0x{iei:02X} longer than the UDH")
        if iei == 0x00 and length == 3:
            info = PartInfo(value[0], value[1], value[2])
        elif iei == 0x08 and length == 4:
            info = PartInfo((value[0] << 8) | value[1], value[2], value[3])
        pos += 2 + length
    return info, rest


def part_info(sm: codec.ShortMessage) -> tuple[PartInfo | None, bytes]:
    """Concatenation info from UDH or SAR TLVs, and the bare payload."""
    payload = sm.short_message or sm.tlvs.get(codec.TLV_MESSAGE_PAYLOAD, b"")
    info, payload = split_udh(sm.esm_class, payload)
    if info is None and codec.TLV_SAR_MSG_REF_NUM in sm.tlvs:
        # The three SAR TLVs come together (SMPP 3.4, 5.3.2.22-24); a 0 is refused below,
        # as in a UDH, not read as 1.
        total = sm.tlv_int(codec.TLV_SAR_TOTAL_SEGMENTS)
        seq = sm.tlv_int(codec.TLV_SAR_SEGMENT_SEQNUM)
        if total is None or seq is None:
            raise codec.PduError("sar_msg_ref_num without sar_total_segments or sar_segment_seqnum")
        info = PartInfo(sm.tlv_int(codec.TLV_SAR_MSG_REF_NUM) or 0, total, seq)
    if info is not None and (info.total < 1 or not 1 <= info.seq <= info.total):
        raise codec.PduError(f"bad concatenation info {info}")
    return info, payload


@dataclass
class _Set:
    started: float
    total: int
    data_coding: int
    parts: dict[int, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Completed:
    """A complete set, taken out of the reassembler; `last` is the part that completed it."""

    key: tuple[str, str, int, int]
    last: int
    entry: _Set

    @property
    def payload(self) -> bytes:
        return b"".join(self.entry.parts[i] for i in range(1, self.entry.total + 1))

    @property
    def data_coding(self) -> int:
        return self.entry.data_coding


class Reassembler:
    """Collects parts by (sender, recipient, reference); out of order and duplicates ok."""

    def __init__(self, timeout: float = 120.0, max_sets: int = 10000, per_sender: int = 8) -> None:
        self.timeout = timeout
        self.max_sets = max_sets
        self.per_sender = per_sender
        self._sets: OrderedDict[tuple[str, str, int, int], _Set] = OrderedDict()
        # Each sending phone's incomplete sets, oldest first (at most per_sender of them).
        self._of_sender: dict[str, list[tuple[str, str, int, int]]] = {}
        self.expired = 0

    def collect(
        self,
        source: str,
        dest: str,
        info: PartInfo,
        data_coding: int,
        payload: bytes,
        now: float | None = None,
    ) -> Completed | None:
        """Add a part; the completed set (taken out) when this part completes it."""
        now = time.monotonic() if now is None else now
        self.expire(now)
        key = (source, dest, info.ref, info.total)
        if info.total == 1:
            return Completed(key, info.seq, _Set(now, 1, data_coding, {1: payload}))
        entry = self._sets.get(key) or self._open(key, _Set(now, info.total, data_coding))
        entry.parts.setdefault(info.seq, payload)  # a duplicate part is ignored
        if len(entry.parts) < entry.total:
            return None
        self._forget(key)
        return Completed(key, info.seq, entry)

    def put_back(self, done: Completed, now: float | None = None) -> None:
        """The set as it was before its last part: the message could not be handled (for
        now), so the SMSC sends that part again, and it completes the set again."""
        if done.entry.total == 1:
            return
        now = time.monotonic() if now is None else now
        parts = {seq: part for seq, part in done.entry.parts.items() if seq != done.last}
        entry = self._sets.get(done.key) or self._open(
            done.key, _Set(now, done.entry.total, done.entry.data_coding)
        )
        for seq, part in parts.items():
            entry.parts.setdefault(seq, part)

    def _open(self, key: tuple[str, str, int, int], entry: _Set) -> _Set:
        source = key[0]
        if len(self._of_sender.get(source, ())) >= self.per_sender:
            self._forget(self._of_sender[source][0])  # its oldest
            self.expired += 1
        while len(self._sets) >= self.max_sets:
            self._forget(next(iter(self._sets)))
            self.expired += 1
        self._sets[key] = entry
        self._of_sender.setdefault(source, []).append(key)
        return entry

    def expire(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        dropped = 0
        while self._sets:
            key, entry = next(iter(self._sets.items()))
            if now - entry.started < self.timeout:
                break
            self._forget(key)
            dropped += 1
            log.info(
                "dropped incomplete multipart SMS (%d of %d parts) after timeout",
                len(entry.parts),
                entry.total,
            )
        self.expired += dropped
        return dropped

    def _forget(self, key: tuple[str, str, int, int]) -> None:
        del self._sets[key]
        of_sender = self._of_sender[key[0]]
        of_sender.remove(key)  # a short list: at most per_sender keys
        if not of_sender:
            del self._of_sender[key[0]]

    def __len__(self) -> int:
        return len(self._sets)
