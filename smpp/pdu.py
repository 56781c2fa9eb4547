"""The short-message PDUs on the hot paths, built and parsed with struct (no smpplib).

submit_sm and deliver_sm share one body layout; the parser keeps every TLV raw,
known or not, so a TLV smpplib's classes do not declare (``ussd_service_op`` in a
deliver_sm raises KeyError there) is just another entry here. The tests check
these encoders against smpplib where smpplib can read the PDU.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from smpp.constants import (
    DATA_SM,
    SUBMIT_SM,
    SUBMIT_SM_RESP,
    TLV_ITS_SESSION_INFO,
    TLV_USER_MESSAGE_REFERENCE,
    TLV_USSD_SERVICE_OP,
)
from smpp.frames import HEADER, PduError

MAX_ADDRESS = 20  # source_addr and destination_addr: C-Octet Strings of at most 21 octets
MAX_SERVICE_TYPE = 5  # service_type: a C-Octet String of at most 6 octets


def _cstr(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


def build_submit_sm(
    sequence: int,
    *,
    source: str,
    source_ton: int,
    source_npi: int,
    destination: str,
    dest_ton: int = 1,
    dest_npi: int = 1,
    esm_class: int = 0,
    data_coding: int = 0,
    registered_delivery: int = 1,
    short_message: bytes = b"",
    tlvs: bytes = b"",
    service_type: str = "",
    command_id: int = SUBMIT_SM,
) -> bytes:
    """submit_sm (or deliver_sm, same body) bytes; `tlvs` from :func:`tlv`."""
    if len(short_message) > 254:
        raise PduError("short_message longer than 254 octets: use message_payload")
    if len(service_type) > MAX_SERVICE_TYPE:
        raise PduError(f"service_type longer than {MAX_SERVICE_TYPE} characters")
    if len(source) > MAX_ADDRESS or len(destination) > MAX_ADDRESS:
        raise PduError(f"an address longer than {MAX_ADDRESS} characters (SMPP 3.4)")
    body = b"".join(
        (
            _cstr(service_type),
            bytes((source_ton, source_npi)),
            _cstr(source),
            bytes((dest_ton, dest_npi)),
            _cstr(destination),
            bytes((esm_class, 0, 0)),  # esm_class, protocol_id, priority_flag
            b"\x00\x00",  # schedule_delivery_time, validity_period
            bytes((registered_delivery, 0, data_coding, 0, len(short_message))),
            short_message,
            tlvs,
        )
    )
    return HEADER.pack(16 + len(body), command_id, 0, sequence) + body


class SubmitPrefab:
    """submit_sm bodies that differ only in destination and short_message (blasts): the
    fields around them are packed once."""

    __slots__ = ("_head", "_middle")

    def __init__(
        self, source: str, source_ton: int, source_npi: int, data_coding: int, registered: int
    ) -> None:
        self._head = _cstr("") + bytes((source_ton, source_npi)) + _cstr(source) + b"\x01\x01"
        # The destination's NUL, esm_class, protocol_id, priority_flag, two empty times,
        # registered_delivery, replace_if_present, data_coding, sm_default_msg_id.
        self._middle = b"\x00" * 6 + bytes((registered, 0, data_coding, 0))

    def body(self, destination: str, short_message: bytes) -> bytes:
        """The body (after the header); `short_message` at most 254 octets."""
        return (
            self._head
            + destination.encode("latin-1")
            + self._middle
            + bytes((len(short_message),))
            + short_message
        )


def tlv(tag: int, value: bytes | int, size: int = 1) -> bytes:
    if isinstance(value, int):
        value = value.to_bytes(size, "big")
    return struct.pack(">HH", tag, len(value)) + value


def build_submit_sm_resp(sequence: int, status: int, message_id: str) -> bytes:
    body = b"" if status else _cstr(message_id)
    return HEADER.pack(16 + len(body), SUBMIT_SM_RESP, status, sequence) + body


def parse_message_id(body: bytes) -> str:
    """message_id of a submit_sm_resp (empty body on errors is fine)."""
    end = body.find(b"\x00")
    raw = body if end < 0 else body[:end]
    return raw.decode("latin-1")


@dataclass(slots=True)
class ShortMessage:
    """The fields of a deliver_sm / submit_sm we use, plus every TLV raw."""

    source: str
    source_ton: int
    source_npi: int
    destination: str
    dest_ton: int
    dest_npi: int
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes] = field(default_factory=dict)
    service_type: str = ""

    def tlv_int(self, tag: int) -> int | None:
        value = self.tlvs.get(tag)
        return int.from_bytes(value, "big") if value else None


def _read_cstr(body: bytes, pos: int, limit: int = 65) -> tuple[str, int]:
    end = body.find(b"\x00", pos, pos + limit)
    if end < 0:
        raise PduError("unterminated C-octet string")
    return body[pos:end].decode("latin-1"), end + 1


def _read_tlvs(body: bytes, pos: int) -> dict[int, bytes]:
    tlvs: dict[int, bytes] = {}
    while pos + 4 <= len(body):
        tag, length = struct.unpack_from(">HH", body, pos)
        pos += 4
        if pos + length > len(body):
            raise PduError(f"TLV 0x{tag:04X} runs past the PDU")
        tlvs[tag] = body[pos : pos + length]
        pos += length
    return tlvs  # 1-3 stray octets at the end (a sloppy SMSC) are ignored


def _addressed(body: bytes) -> tuple[ShortMessage, int]:
    """The head deliver_sm, submit_sm and data_sm share (service type to esm_class), and
    the position after esm_class. IndexError on a short body."""
    service_type, pos = _read_cstr(body, 0, 7)
    source_ton, source_npi = body[pos], body[pos + 1]
    source, pos = _read_cstr(body, pos + 2)
    dest_ton, dest_npi = body[pos], body[pos + 1]
    destination, pos = _read_cstr(body, pos + 2)
    sm = ShortMessage(
        source, source_ton, source_npi, destination, dest_ton, dest_npi,
        esm_class=body[pos], registered_delivery=0, data_coding=0, short_message=b"",
        tlvs={}, service_type=service_type,
    )  # fmt: skip
    return sm, pos + 1


def parse_short_message(body: bytes) -> ShortMessage:
    """Parse a deliver_sm/submit_sm body tolerantly (any TLV, known or not)."""
    try:
        sm, pos = _addressed(body)
        pos += 2  # protocol_id, priority_flag
        _, pos = _read_cstr(body, pos, 17)
        _, pos = _read_cstr(body, pos, 17)
        sm.registered_delivery = body[pos]
        sm.data_coding = body[pos + 2]
        sm_length = body[pos + 4]
        pos += 5
        if pos + sm_length > len(body):
            raise PduError("sm_length runs past the PDU")
        sm.short_message = body[pos : pos + sm_length]
        sm.tlvs = _read_tlvs(body, pos + sm_length)
    except IndexError as exc:
        raise PduError("PDU body too short") from exc
    return sm


def parse_data_sm(body: bytes) -> ShortMessage:
    """A data_sm body (SMPP 3.4, 4.7.1): no short_message, the text in message_payload."""
    try:
        sm, pos = _addressed(body)
        sm.registered_delivery, sm.data_coding = body[pos], body[pos + 1]
        sm.tlvs = _read_tlvs(body, pos + 2)
    except IndexError as exc:
        raise PduError("PDU body too short") from exc
    return sm


def parse_incoming(command_id: int, body: bytes) -> ShortMessage:
    """A deliver_sm or data_sm body."""
    return parse_data_sm(body) if command_id == DATA_SM else parse_short_message(body)


def peek_destination(body: bytes) -> str:
    """Only the destination of a submit_sm (the simulator's lean path)."""
    pos = body.index(b"\x00") + 3
    pos = body.index(b"\x00", pos) + 3
    end = body.index(b"\x00", pos)
    return body[pos:end].decode("latin-1")


# --- USSD over SMPP: the three TLVs a USSD hop carries ------------------------------------

# Tag -> the one length SMPP 3.4 allows for it.
USSD_TLV_SIZES = {TLV_USSD_SERVICE_OP: 1, TLV_ITS_SESSION_INFO: 2, TLV_USER_MESSAGE_REFERENCE: 2}


class MissingTlv(PduError):
    """A TLV the PDU needs is absent."""


@dataclass(frozen=True, slots=True)
class UssdFields:
    """ussd_service_op and the session references a USSD PDU carries (None: absent)."""

    op: int
    its_session_info: int | None
    user_message_reference: int | None


def is_ussd(sm: ShortMessage) -> bool:
    """A USSD hop: it carries ussd_service_op, or service_type says "USSD"."""
    return TLV_USSD_SERVICE_OP in sm.tlvs or sm.service_type.upper() == "USSD"


def ussd_fields(sm: ShortMessage) -> UssdFields:
    """Read the USSD TLVs; PduError names the one that is missing or the wrong size."""
    values: dict[int, int | None] = {}
    for tag, size in USSD_TLV_SIZES.items():
        raw = sm.tlvs.get(tag)
        if raw is not None and len(raw) != size:
            raise PduError(f"TLV 0x{tag:04X} is {len(raw)} octets, SMPP 3.4 says {size}")
        values[tag] = int.from_bytes(raw, "big") if raw is not None else None
    op = values[TLV_USSD_SERVICE_OP]
    if op is None:
        raise MissingTlv("service_type USSD without ussd_service_op (TLV 0x0501)")
    return UssdFields(op, values[TLV_ITS_SESSION_INFO], values[TLV_USER_MESSAGE_REFERENCE])


def ussd_tlvs(
    op: int, its_session_info: int | None = None, user_message_reference: int | None = None
) -> bytes:
    """The TLVs of a USSD submit_sm (or, in the simulator, deliver_sm)."""
    out = tlv(TLV_USSD_SERVICE_OP, op, 1)
    if its_session_info is not None:
        out += tlv(TLV_ITS_SESSION_INFO, its_session_info, 2)
    if user_message_reference is not None:
        out += tlv(TLV_USER_MESSAGE_REFERENCE, user_message_reference, 2)
    return out
