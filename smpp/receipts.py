"""Delivery receipts: TLVs first (receipted_message_id, message_state), then the text form."""

from __future__ import annotations

import re
from dataclasses import dataclass

from smpp import codec

ESM_RECEIPT = 0x04
# esm_class bits 5-2: the message type (SMPP 3.4, 5.2.12). 0 is a user's message; 0x04 a
# delivery receipt; 0x08 an SME delivery and 0x10 a manual/user acknowledgement, 0x20 an
# intermediate delivery notification: none of those was typed by the subscriber.
ESM_MESSAGE_TYPE = 0x3C
ESM_INTERMEDIATE = 0x20

# message_state TLV values -> our recipient states.
STATE_BY_TLV = {
    1: "enroute",
    2: "delivered",
    3: "expired",
    4: "failed",
    5: "failed",
    6: "enroute",
    7: "failed",
    8: "failed",
}
STATE_BY_STAT = {
    "DELIVRD": "delivered",
    "EXPIRED": "expired",
    "DELETED": "failed",
    "UNDELIV": "failed",
    "ACCEPTD": "enroute",
    "UNKNOWN": "failed",
    "REJECTD": "failed",
    "ENROUTE": "enroute",
}
# Some SMSCs spell the state out (stat:DELIVERED): the same states under the long names.
STATE_BY_STAT.update(
    {
        "DELIVERED": "delivered",
        "UNDELIVERABLE": "failed",
        "UNDELIVERED": "failed",
        "ACCEPTED": "enroute",
        "REJECTED": "failed",
    }
)

_ID = re.compile(rb"\bid\s*:\s*([^\s]+)", re.IGNORECASE)
_STAT = re.compile(rb"\bstat\s*:\s*([A-Za-z]+)", re.IGNORECASE)
_ERR = re.compile(rb"\berr\s*:\s*([^\s]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Receipt:
    message_id: str
    state: str  # delivered, expired, failed, enroute
    stat: str  # what the SMSC said, for the record
    error: str = ""


def normalise_id(message_id: str, base: str) -> str:
    """One spelling for message ids: submit_sm_resp and receipts may differ in base."""
    value = message_id.strip()
    try:
        if base == "hex":
            return str(int(value, 16))
        if base == "decimal":
            return str(int(value, 10))
    except ValueError:
        pass
    return value.lower()


def is_receipt(sm: codec.ShortMessage) -> bool:
    return sm.esm_class & ESM_MESSAGE_TYPE == ESM_RECEIPT


def is_user_message(sm: codec.ShortMessage) -> bool:
    """Typed by the subscriber: the default message type (no receipt, no notification)."""
    return not sm.esm_class & ESM_MESSAGE_TYPE


def parse_receipt(sm: codec.ShortMessage, receipt_id_base: str = "as_is") -> Receipt | None:
    """The receipt in a deliver_sm, or None when neither the TLVs nor the text name an id."""
    text = sm.short_message or sm.tlvs.get(codec.TLV_MESSAGE_PAYLOAD, b"")
    tlv_id = sm.tlvs.get(codec.TLV_RECEIPTED_MESSAGE_ID)
    tlv_state = sm.tlv_int(codec.TLV_MESSAGE_STATE)
    message_id = tlv_id.rstrip(b"\x00").decode("latin-1") if tlv_id else ""
    if not message_id:
        found = _ID.search(text)
        message_id = found.group(1).decode("latin-1") if found else ""
    if not message_id:
        return None
    stat_match = _STAT.search(text)
    stat = stat_match.group(1).decode("latin-1").upper() if stat_match else ""
    if tlv_state is not None and tlv_state in STATE_BY_TLV:
        state = STATE_BY_TLV[tlv_state]
    else:
        state = STATE_BY_STAT.get(stat) or STATE_BY_STAT.get(
            stat[:7], "failed" if stat else "enroute"
        )
    err_match = _ERR.search(text)
    error = err_match.group(1).decode("latin-1") if err_match else ""
    return Receipt(normalise_id(message_id, receipt_id_base), state, stat or str(tlv_state), error)
