"""Outgoing (MT) messages: text -> the submit_sm PDUs of its parts."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from smpp import codec, concat, encoding
from smpp.settings import SmppSettings

Build = Callable[[int], bytes]
ROK = codec.ESME_ROK


@dataclass(frozen=True, slots=True)
class Source:
    addr: str
    ton: int
    npi: int


class PartSet:
    """The parts of one message, built once (so one concatenation reference for good),
    the ones the SMSC accepted (index -> message id) and the answers still due.

    A round submits the parts not accepted yet: all of them first, then only those a
    temporary error sent back. Each submit's token is ``(part set, index)``.
    """

    __slots__ = ("accepted", "builds", "remaining", "rounds", "status")

    def __init__(self, builds: list[Build]) -> None:
        self.builds = builds
        self.accepted: dict[int, str] = {}
        self.remaining = 0  # answers still due in this round
        self.status = 0  # this round's error (a permanent one wins), 0: none
        self.rounds = 0

    def start_round(self) -> list[int]:
        """The indexes to submit now (every part not accepted yet)."""
        todo = [i for i in range(len(self.builds)) if i not in self.accepted]
        self.remaining, self.status = len(todo), 0
        self.rounds += 1
        return todo

    def answer(self, index: int, status: int, message_id: str) -> bool:
        """One part's answer; True when it was the last of the round."""
        self.remaining -= 1
        if status == ROK:
            self.accepted[index] = message_id
        elif not self.status or codec.is_temporary(self.status):
            self.status = status
        return self.remaining == 0

    def mids(self) -> list[str]:
        """The accepted parts' message ids, in part order."""
        return [self.accepted[i] for i in sorted(self.accepted)]


class MtBuilder:
    def __init__(self, settings: SmppSettings) -> None:
        self.settings = settings
        self._ref = secrets.randbelow(0x10000)  # a restarted process starts elsewhere
        self.gsm_dc0 = settings.data_coding_default != encoding.LATIN1
        self.mode = settings.long_message
        self.registered_delivery = settings.registered_delivery
        self._prefabs: dict[Source, codec.SubmitPrefab] = {}

    def split(self, text: str) -> encoding.Encoded:
        return encoding.encode_message(
            text, gsm_dc0=self.gsm_dc0, single_part=self.mode == "payload"
        )

    def next_ref(self) -> int:
        # One counter for every long message this process sends, as an SMSC connection
        # keeps one (Kannel's): two long messages to one phone in flight together differ
        # unless 256 others went out between them. It used to be a Redis counter per
        # phone: a round trip per recipient of a long blast, for no better guarantee.
        self._ref = (self._ref + 1) & 0xFFFF
        return self._ref

    def build(self, to: str, text: str, source: Source) -> list[Build]:
        enc = self.split(text)
        total = len(enc.parts)
        ref = self.next_ref() if total > 1 else 0
        return [self._part(to, source, enc, i, total, ref) for i in range(total)]

    def build_blast(self, to: str, source: Source, septets: bytes) -> Build | None:
        """One GSM-7 part (the blast's common case: see ``BlastText.septets``) with the
        fields around destination and text packed once; None: use :meth:`build`."""
        if not self.gsm_dc0 or len(septets) > encoding.SINGLE_GSM7:
            return None
        prefab = self._prefabs.get(source)
        if prefab is None:
            prefab = self._prefabs[source] = codec.SubmitPrefab(
                source.addr, source.ton, source.npi, encoding.DC_DEFAULT, self.registered_delivery
            )
        body = prefab.body(to, septets)
        length, pack = 16 + len(body), codec.HEADER.pack

        def build(seq: int) -> bytes:
            return pack(length, codec.SUBMIT_SM, 0, seq) + body

        return build

    def _part(
        self, to: str, source: Source, enc: encoding.Encoded, index: int, total: int, ref: int
    ) -> Build:
        payload, esm, tlvs = enc.parts[index], 0, b""
        if total > 1 and self.mode == "sar":
            tlvs = concat.sar_tlvs(ref, total, index + 1)
        elif total > 1:
            payload = concat.udh_8bit(ref, total, index + 1) + payload
            esm = concat.ESM_UDHI
        if len(payload) > 254:  # "payload" mode: the whole text in message_payload
            tlvs, payload = codec.tlv(codec.TLV_MESSAGE_PAYLOAD, payload), b""
        rd = self.registered_delivery

        def build(seq: int) -> bytes:
            return codec.build_submit_sm(
                seq,
                source=source.addr,
                source_ton=source.ton,
                source_npi=source.npi,
                destination=to,
                dest_ton=1,
                dest_npi=1,
                esm_class=esm,
                data_coding=enc.data_coding,
                registered_delivery=rd,
                short_message=payload,
                tlvs=tlvs,
            )

        return build
