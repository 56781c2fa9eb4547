"""What the development SMSC sends the ESME unasked: delivery receipts, incoming SMS
(MO, multipart by UDH or SAR), USSD hops from its handsets, and raw bytes."""

from __future__ import annotations

import asyncio
import time

from devtools.smsc_state import SimState, receiving_connection, remember_mo
from devtools.smsc_ussd import Screen
from smpp import codec, concat, encoding

# Receipt `stat:` words and their message_state TLV values (SMPP 3.4, 5.3.2.35).
RECEIPT_STATES = {
    "ENROUTE": 1,
    "DELIVRD": 2,
    "EXPIRED": 3,
    "DELETED": 4,
    "UNDELIV": 5,
    "ACCEPTD": 6,
    "UNKNOWN": 7,
    "REJECTD": 8,
}


def send_receipt(state: SimState, sm: codec.ShortMessage, message_id: str, tries: int = 0) -> None:
    conn = receiving_connection(state)
    if conn is None:
        # Like a real SMSC, keep the receipt until the ESME binds again (for a while).
        if tries < 50:
            asyncio.get_running_loop().call_later(
                0.2, send_receipt, state, sm, message_id, tries + 1
            )
        return
    stat = state.settings.receipt_stat
    stamp = time.strftime("%y%m%d%H%M")
    text = (
        f"id:{message_id} sub:001 dlvrd:001 submit date:{stamp} done date:{stamp} "
        f"stat:{stat} err:000 text:"
    ).encode()
    tlvs = codec.tlv(codec.TLV_RECEIPTED_MESSAGE_ID, message_id.encode() + b"\x00") + codec.tlv(
        codec.TLV_MESSAGE_STATE, RECEIPT_STATES.get(stat, 7), 1
    )
    conn.send_pdu(
        lambda seq: codec.build_submit_sm(
            seq,
            source=sm.destination,
            source_ton=1,
            source_npi=1,
            destination=sm.source,
            dest_ton=sm.source_ton,
            dest_npi=sm.source_npi,
            esm_class=0x04,
            registered_delivery=0,
            short_message=text,
            tlvs=tlvs,
            command_id=codec.DELIVER_SM,
        )
    )


def inject_mo(state: SimState, sender: str, to: str, text: str, *, mode: str = "udh") -> int:
    """Deliver an incoming SMS to the bound ESME; returns the number of parts sent."""
    conn = receiving_connection(state)
    if conn is None:
        raise LookupError("no ESME bound to receive")
    enc = encoding.encode_message(text)
    total = len(enc.parts)
    state.next_id += 1
    ref = state.next_id & 0xFF
    sent: list[bytes] = []
    for i, part in enumerate(enc.parts, 1):
        esm, payload, tlvs = 0, part, b""
        if total > 1 and mode == "udh":
            esm, payload = concat.ESM_UDHI, concat.udh_8bit(ref, total, i) + part
        elif total > 1 and mode == "sar":
            tlvs = concat.sar_tlvs(ref, total, i)
        pdu = conn.send_pdu(
            lambda seq, p=payload, e=esm, t=tlvs: codec.build_submit_sm(
                seq,
                source=sender,
                source_ton=1,
                source_npi=1,
                destination=to,
                dest_ton=0,
                dest_npi=0,
                esm_class=e,
                registered_delivery=0,
                data_coding=enc.data_coding,
                short_message=p,
                tlvs=t,
                command_id=codec.DELIVER_SM,
            )
        )
        sent.append(pdu)
    remember_mo(state, sender, sent)
    return total


def repeat_mo(state: SimState, sender: str) -> int:
    """The phone's last MO sent again byte for byte, its sequence numbers included, as an
    SMSC re-sends a deliver_sm whose deliver_sm_resp was lost or late; returns the parts.

    LookupError when no ESME is bound or the phone sent nothing yet."""
    conn = receiving_connection(state)
    if conn is None:
        raise LookupError("no ESME bound to receive")
    pdus = state.last_mo.get(sender)
    if not pdus:
        raise LookupError("no SMS from this phone to repeat")
    for pdu in pdus:
        conn.resend(pdu)
    return len(pdus)


async def ussd_exchange(
    state: SimState,
    msisdn: str,
    text: str,
    *,
    wait: float,
    to: str = "",
    abort: bool = False,
    repeat: bool = False,
) -> Screen | None:
    """One handset hop (dial, answer, hang-up or the network repeating the last) and the
    screen it gets back (None after a hang-up: nothing comes back).

    LookupError when no ESME is bound or the handset has no dialogue for it;
    TimeoutError when no screen comes within `wait` seconds."""
    conn = receiving_connection(state)
    if conn is None:
        raise LookupError("no ESME bound to receive")
    handsets = state.handsets
    build = handsets.repeat(msisdn) if repeat else handsets.hop(msisdn, text, to=to, abort=abort)
    screen = None if abort else handsets.expect(msisdn)
    conn.send_pdu(build)
    return None if screen is None else await asyncio.wait_for(screen, wait)


def inject_raw(state: SimState, data: bytes) -> int:
    """Write raw bytes (garbage, odd PDUs) to every bound connection."""
    sent = 0
    for conn in list(state.connections):
        if conn.transport is not None and not conn.dead:
            conn.transport.write(data)
            sent += 1
    return sent
