"""The development SMSC playing USSD handsets: each dial, answer or hang-up becomes a
deliver_sm as the chosen network variant would send it, and every USSD submit_sm
coming back is a screen shown on that handset.

The variant tables are the service's own (:mod:`smpp.ussd_variants`), read from
the network's side: the op a handset sends for new / continue / close, where the
session reference goes, the end bit, the hop numbers.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass

from dialogue.model import SessionEvent
from smpp import codec, encoding
from smpp.ussd_variants import Variant, variant

Build = Callable[[int], bytes]
FINAL_OPS = frozenset({codec.USSD_PSSD_RESPONSE, codec.USSD_PSSR_RESPONSE})


@dataclass
class Screen:
    """One USSD screen the service sent to a handset."""

    text: str
    end: bool
    op: int
    its_session_info: int | None
    user_message_reference: int | None


@dataclass
class Dialogue:
    """A handset's open USSD dialogue, as the network keeps it."""

    service: str
    reference: int
    hops: int = 0
    last: Build | None = None


def is_dial(text: str) -> bool:
    """'*119#', '*119*1#': a dialled string opens a dialogue; anything else answers."""
    text = text.strip()
    return len(text) > 2 and text.startswith("*") and text.endswith("#")


def base_code(dialled: str) -> str:
    """'*119*1#' -> '119': the short code the network routes on (destination_addr)."""
    return dialled.strip().strip("*#").split("*", 1)[0]


def session_tlvs(v: Variant, reference: int, hops: int, op: int, end: bool) -> bytes:
    """The TLVs of one network PDU: the op and the session reference where `v` keeps it."""
    mask = v.session_mask
    value = (reference << ((mask & -mask).bit_length() - 1)) & mask
    if v.numbered_hops:
        value |= (hops & 0x7F) << 1
    if v.session_tlv == codec.TLV_ITS_SESSION_INFO:
        return codec.ussd_tlvs(op, its_session_info=value | int(end and v.end_bit))
    return codec.ussd_tlvs(op, user_message_reference=value)


class Handsets:
    """Every handset's open dialogue and the screens it was shown (newest last)."""

    def __init__(self, variant_name: Callable[[], str]) -> None:
        self._variant_name = variant_name  # read per hop: POST /config can switch it
        self.dialogues: dict[str, Dialogue] = {}
        self.screens: dict[str, deque[Screen]] = defaultdict(lambda: deque(maxlen=50))
        self._waiters: dict[str, list[asyncio.Future[Screen]]] = defaultdict(list)
        self._references = itertools.count(random.randint(1, 200))

    @property
    def variant(self) -> Variant:
        return variant(self._variant_name())

    def hop(self, msisdn: str, text: str, *, to: str = "", abort: bool = False) -> Build:
        """The deliver_sm for a dial, an answer or (``abort``) the user hanging up.

        LookupError when there is no open dialogue to answer in or hang up.
        """
        v = self.variant
        if is_dial(text) and not abort:
            reference = next(self._references) % 250 + 1
            dialogue = Dialogue(to or base_code(text), reference)
            self.dialogues[msisdn] = dialogue
            event = SessionEvent.NEW
        else:
            dialogue = self.dialogues.get(msisdn)
            if dialogue is None:
                raise LookupError("no USSD dialogue open for this phone: dial first (*119#)")
            dialogue.hops += 1
            event = SessionEvent.CLOSE if abort else SessionEvent.CONTINUE
        if abort:
            del self.dialogues[msisdn]
        op = v.first_op(event)
        tlvs = session_tlvs(v, dialogue.reference, dialogue.hops, op, end=abort)
        payload = encoding.encode_gsm7("" if abort else text.strip())

        def build(seq: int) -> bytes:
            return codec.build_submit_sm(
                seq,
                service_type="USSD",
                source=msisdn,
                source_ton=1,
                source_npi=1,
                destination=dialogue.service,
                dest_ton=0,
                dest_npi=0,
                registered_delivery=0,
                short_message=payload,
                tlvs=tlvs,
                command_id=codec.DELIVER_SM,
            )

        dialogue.last = build
        return build

    def repeat(self, msisdn: str) -> Build:
        """The last hop again, as a network retransmits one it thinks was lost."""
        dialogue = self.dialogues.get(msisdn)
        if dialogue is None or dialogue.last is None:
            raise LookupError("no USSD hop of this phone to repeat")
        return dialogue.last

    def expect(self, msisdn: str) -> asyncio.Future[Screen]:
        """A future for the next screen to `msisdn` (register it before sending the hop)."""
        fut: asyncio.Future[Screen] = asyncio.get_running_loop().create_future()
        self._waiters[msisdn].append(fut)
        return fut

    def on_reply(self, sm: codec.ShortMessage) -> None:
        """A USSD submit_sm from the service: show it on the handset."""
        fields = codec.ussd_fields(sm)
        isi = fields.its_session_info
        end = fields.op in FINAL_OPS or (self.variant.end_bit and isi is not None and isi & 1)
        screen = Screen(
            encoding.decode(sm.short_message or sm.tlvs.get(codec.TLV_MESSAGE_PAYLOAD, b""),
                            sm.data_coding),
            bool(end),
            fields.op,
            isi,
            fields.user_message_reference,
        )  # fmt: skip
        self.screens[sm.destination].append(screen)
        if screen.end:
            self.dialogues.pop(sm.destination, None)
        for fut in self._waiters.pop(sm.destination, []):
            if not fut.done():
                fut.set_result(screen)

    def history(self, msisdn: str) -> dict[str, object]:
        return {
            "msisdn": msisdn,
            "open": msisdn in self.dialogues,
            "screens": [asdict(s) for s in self.screens.get(msisdn, ())],
        }

    def reset(self) -> None:
        self.dialogues.clear()
        self.screens.clear()
