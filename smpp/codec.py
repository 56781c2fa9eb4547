"""SMPP 3.4 PDUs on the wire: the ONLY module that imports smpplib.

smpplib's codec builds and parses the rarely sent PDUs (binds and their responses);
the hot paths (submit_sm, the responses, deliver_sm with any TLV) have their own
small struct-based encoders/parsers here, checked against smpplib in the tests.
Every smpplib exception stops here and becomes a :class:`PduError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import smpplib.exceptions
import smpplib.smpp

HEADER = struct.Struct(">LLLL")
MAX_PDU = 65536

# Every PDU number lives in smpp.constants; `codec.X` stays the one namespace for callers.
from smpp.constants import *  # noqa: E402, F403
from smpp.constants import (  # noqa: E402  (the names used in this module)
    BIND_NAMES,
    DATA_SM_RESP,
    DELIVER_SM_RESP,
    SUBMIT_SM,
    SUBMIT_SM_RESP,
)


class PduError(Exception):
    """A PDU that cannot be built or parsed (the connection carries on)."""


class FramingError(PduError):
    """The byte stream cannot be split into PDUs any more (the connection must reset)."""


@dataclass(slots=True)
class Frame:
    command_id: int
    status: int
    sequence: int
    body: bytes


def split_frames(buffer: bytearray) -> list[Frame]:
    """Take every complete PDU off the front of `buffer` (in place).

    Raises FramingError when a length is impossible: after that nothing in the stream
    can be trusted, so the caller drops the connection and reconnects.
    """
    frames: list[Frame] = []
    offset = 0
    size = len(buffer)
    unpack = HEADER.unpack_from
    while size - offset >= 16:
        length, command_id, status, sequence = unpack(buffer, offset)
        if length < 16 or length > MAX_PDU:
            del buffer[:offset]
            raise FramingError(f"impossible command_length {length}")
        if size - offset < length:
            break
        frames.append(
            Frame(command_id, status, sequence, bytes(buffer[offset + 16 : offset + length]))
        )
        offset += length
    if offset:
        del buffer[:offset]
    return frames


def header_only(command_id: int, sequence: int, status: int = 0) -> bytes:
    """enquire_link, unbind, their responses, generic_nack, deliver_sm_resp."""
    if command_id in (DELIVER_SM_RESP, DATA_SM_RESP):
        return HEADER.pack(17, command_id, status, sequence) + b"\x00"
    return HEADER.pack(16, command_id, status, sequence)


class _Seq:
    """The sequence holder smpplib wants; we set sequence numbers ourselves."""

    def __init__(self, value: int = 0) -> None:
        self.sequence = value

    def next_sequence(self) -> int:
        return self.sequence


def build_bind(
    command_id: int, sequence: int, system_id: str, password: str, system_type: str = ""
) -> bytes:
    try:
        pdu = smpplib.smpp.make_pdu(
            BIND_NAMES[command_id],
            client=_Seq(sequence),
            system_id=system_id,
            password=password,
            system_type=system_type,
            interface_version=0x34,
        )
        pdu.sequence = sequence
        return pdu.generate()
    except (KeyError, ValueError, TypeError, smpplib.exceptions.PDUError) as exc:
        raise PduError(f"cannot build bind: {exc}") from exc


def build_bind_resp(command_id: int, sequence: int, status: int, system_id: str) -> bytes:
    try:
        pdu = smpplib.smpp.make_pdu(
            BIND_NAMES[command_id] + "_resp", client=_Seq(sequence), system_id=system_id
        )
        pdu.sequence = sequence
        pdu.status = status
        return pdu.generate()
    except (KeyError, ValueError, TypeError, smpplib.exceptions.PDUError) as exc:
        raise PduError(f"cannot build bind_resp: {exc}") from exc


# What smpplib's parse_pdu raises on a PDU it cannot read (UnicodeDecodeError is a
# ValueError); each becomes our PduError so the connection handler survives it.
SMPPLIB_PARSE_ERRORS = (
    KeyError,
    ValueError,
    IndexError,
    struct.error,
    smpplib.exceptions.UnknownCommandError,
    smpplib.exceptions.PDUError,
)


@dataclass(frozen=True, slots=True)
class BindRequest:
    system_id: str
    password: str
    system_type: str


def parse_bind(command_id: int, status: int, sequence: int, body: bytes) -> BindRequest:
    """Parse a bind request with smpplib's codec."""
    raw = HEADER.pack(16 + len(body), command_id, status, sequence) + body
    try:
        pdu = smpplib.smpp.parse_pdu(raw, client=_Seq(), allow_unknown_opt_params=True)
    except SMPPLIB_PARSE_ERRORS as exc:
        raise PduError(f"bad bind: {exc!r}") from exc

    def text(value: object) -> str:
        if isinstance(value, bytes):
            return value.decode("latin-1")
        return "" if value is None else str(value)

    return BindRequest(text(pdu.system_id), text(pdu.password), text(pdu.system_type))


def parse_with_smpplib(raw: bytes) -> dict[str, object]:
    """All fields smpplib sees in a PDU (tests use it to check our fast paths)."""
    try:
        pdu = smpplib.smpp.parse_pdu(raw, client=_Seq(), allow_unknown_opt_params=True)
    except SMPPLIB_PARSE_ERRORS as exc:
        raise PduError(f"smpplib cannot parse: {exc!r}") from exc
    fields = {name: getattr(pdu, name, None) for name in pdu.params}
    fields.update(command=pdu.command, status=pdu.status, sequence=pdu.sequence)
    return fields


# --- fast paths ---------------------------------------------------------------------------


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
    command_id: int = SUBMIT_SM,
) -> bytes:
    """submit_sm (or deliver_sm, same body) bytes; `tlvs` from :func:`tlv`."""
    if len(short_message) > 254:
        raise PduError("short_message longer than 254 octets: use message_payload")
    body = b"".join(
        (
            b"\x00",  # service_type
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

    def tlv_int(self, tag: int) -> int | None:
        value = self.tlvs.get(tag)
        return int.from_bytes(value, "big") if value else None


def _read_cstr(body: bytes, pos: int, limit: int = 65) -> tuple[str, int]:
    end = body.find(b"\x00", pos, pos + limit)
    if end < 0:
        raise PduError("unterminated C-octet string")
    return body[pos:end].decode("latin-1"), end + 1


def parse_short_message(body: bytes) -> ShortMessage:
    """Parse a deliver_sm/submit_sm body tolerantly (any TLV, known or not)."""
    try:
        _, pos = _read_cstr(body, 0, 7)
        source_ton, source_npi = body[pos], body[pos + 1]
        source, pos = _read_cstr(body, pos + 2)
        dest_ton, dest_npi = body[pos], body[pos + 1]
        destination, pos = _read_cstr(body, pos + 2)
        esm_class = body[pos]
        pos += 3  # esm_class, protocol_id, priority_flag
        _, pos = _read_cstr(body, pos, 17)
        _, pos = _read_cstr(body, pos, 17)
        registered_delivery = body[pos]
        data_coding = body[pos + 2]
        sm_length = body[pos + 4]
        pos += 5
        if pos + sm_length > len(body):
            raise PduError("sm_length runs past the PDU")
        short_message = body[pos : pos + sm_length]
        pos += sm_length
        tlvs: dict[int, bytes] = {}
        while pos + 4 <= len(body):
            tag, length = struct.unpack_from(">HH", body, pos)
            pos += 4
            if pos + length > len(body):
                raise PduError(f"TLV 0x{tag:04X} runs past the PDU")
            tlvs[tag] = body[pos : pos + length]
            pos += length
    except IndexError as exc:
        raise PduError("PDU body too short") from exc
    return ShortMessage(
        source,
        source_ton,
        source_npi,
        destination,
        dest_ton,
        dest_npi,
        esm_class,
        registered_delivery,
        data_coding,
        short_message,
        tlvs,
    )


def peek_destination(body: bytes) -> str:
    """Only the destination of a submit_sm (the simulator's lean path)."""
    pos = body.index(b"\x00") + 3
    pos = body.index(b"\x00", pos) + 3
    end = body.index(b"\x00", pos)
    return body[pos:end].decode("latin-1")
