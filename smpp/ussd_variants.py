"""How each operator family speaks USSD over SMPP: one small table per variant.

A variant says which ``ussd_service_op`` values mean new / continue / close, where
the session reference is (``its_session_info`` or ``user_message_reference``, and
which of its bits), whether the low bit of ``its_session_info`` ends the dialogue,
whether the network numbers its hops there, and which ops we answer with. The edge
(:mod:`smpp.ussd`) and the development SMSC's handset read the same tables; adding
an operator is adding a table. ``docs/ussd-smpp.md`` shows them side by side.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dialogue.model import SessionEvent
from smpp.constants import TLV_ITS_SESSION_INFO, TLV_USER_MESSAGE_REFERENCE
from smpp.constants import USSD_PSSR_INDICATION as PSSR_INDICATION
from smpp.constants import USSD_PSSR_RESPONSE as PSSR_RESPONSE
from smpp.constants import USSD_USER_RELEASE as USER_RELEASE
from smpp.constants import USSD_USSR_CONFIRM as USSR_CONFIRM
from smpp.constants import USSD_USSR_REQUEST as USSR_REQUEST

NEW, CONTINUE, CLOSE = SessionEvent.NEW, SessionEvent.CONTINUE, SessionEvent.CLOSE


@dataclass(frozen=True)
class Variant:
    name: str
    # Incoming ussd_service_op -> what it means for the dialogue.
    events: Mapping[int, SessionEvent]
    # An op missing from `events`: treated as this, or None = acknowledged and ignored.
    unknown: SessionEvent | None
    # The TLV holding the session reference, and the bits of it that are the reference.
    session_tlv: int
    session_mask: int
    # The low bit of its_session_info: set by the network = the user's side ended;
    # set by us on the last screen.
    end_bit: bool
    # Bits 7..1 of its_session_info's second octet count the network's hops: a number
    # seen again is a retransmit and gets the same screen without doing anything twice.
    numbered_hops: bool
    # ussd_service_op of our answer: a screen that waits for input, and the last screen.
    reply_continue: int
    reply_end: int

    def first_op(self, event: SessionEvent) -> int:
        """The op a handset of this network sends for `event` (the simulator's side)."""
        return next(op for op, ev in self.events.items() if ev is event)


def _ops(table: dict[int, SessionEvent]) -> Mapping[int, SessionEvent]:
    return MappingProxyType(table)


# SMPP 3.4: the network opens with 1 (PSSR indication, the dialled string in
# short_message), the user's answers come as 18 (USSR confirm); we ask with
# 2 (USSR request) and end with 17 (PSSR response). its_session_info: octet 1 is
# the session number, the low bit ends the dialogue. 0x81 is the common vendor
# "user released".
STANDARD = Variant(
    name="standard",
    events=_ops({PSSR_INDICATION: NEW, USSR_CONFIRM: CONTINUE, USER_RELEASE: CLOSE}),
    unknown=None,
    session_tlv=TLV_ITS_SESSION_INFO,
    session_mask=0xFF00,
    end_bit=True,
    numbered_hops=False,
    reply_continue=USSR_REQUEST,
    reply_end=PSSR_RESPONSE,
)

# Standard, on a network that numbers its dialogue units in bits 7..1 of octet 2.
SEQUENCED = dataclasses.replace(STANDARD, name="sequenced", numbered_hops=True)

# vumi's default processor: 0x01 new, 0x11 close, 0x02/0x12 continue, anything else
# closes; the session is its_session_info & 0xFFFE; the answer is always 2, the end
# told only by the low bit.
VUMI = Variant(
    name="vumi",
    events=_ops(
        {PSSR_INDICATION: NEW, USSR_REQUEST: CONTINUE, USSR_CONFIRM: CONTINUE, PSSR_RESPONSE: CLOSE}
    ),
    unknown=CLOSE,
    session_tlv=TLV_ITS_SESSION_INFO,
    session_mask=0xFFFE,
    end_bit=True,
    numbered_hops=False,
    reply_continue=USSR_REQUEST,
    reply_end=USSR_REQUEST,
)

# Mica: the session is user_message_reference (2 octets), echoed in every answer;
# 0x81 is the user's abort; any other op counts as an answer.
MICA = Variant(
    name="mica",
    events=STANDARD.events,
    unknown=CONTINUE,
    session_tlv=TLV_USER_MESSAGE_REFERENCE,
    session_mask=0xFFFF,
    end_bit=False,
    numbered_hops=False,
    reply_continue=USSR_REQUEST,
    reply_end=PSSR_RESPONSE,
)

# 6D: its_session_info is a 15-bit dialog id (the top 15 bits) and the end bit.
SIXDEE = dataclasses.replace(
    MICA, name="sixdee", session_tlv=TLV_ITS_SESSION_INFO, session_mask=0xFFFE, end_bit=True
)

VARIANTS: Mapping[str, Variant] = MappingProxyType(
    {v.name: v for v in (STANDARD, SEQUENCED, VUMI, MICA, SIXDEE)}
)


def variant(name: str) -> Variant:
    """The variant called `name`; ValueError lists the known ones."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown ussd_variant {name!r}: one of {', '.join(VARIANTS)}") from None
