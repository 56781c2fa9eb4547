"""SMPP 3.4 PDUs on the wire: the ONLY module that imports smpplib, and the one namespace.

smpplib's codec builds and parses the rarely sent PDUs (binds and their responses).
The hot paths have their own struct code: framing in :mod:`smpp.frames`, submit_sm,
deliver_sm and the USSD TLVs in :mod:`smpp.pdu`, numbers in :mod:`smpp.constants`.
Callers use ``codec.X`` for all of them. Every smpplib exception stops here and
becomes a :class:`PduError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import smpplib.exceptions
import smpplib.smpp

# `codec.X` stays the one namespace for callers: numbers, framing and the fast paths.
from smpp.constants import *  # noqa: F403
from smpp.constants import BIND_NAMES
from smpp.frames import (  # noqa: F401  (re-exported)
    HEADER,
    MAX_PDU,
    Frame,
    FramingError,
    PduError,
    header_only,
    split_frames,
)
from smpp.pdu import (  # noqa: F401  (re-exported)
    MAX_ADDRESS,
    MAX_SERVICE_TYPE,
    MissingTlv,
    ShortMessage,
    SubmitPrefab,
    UssdFields,
    build_submit_sm,
    build_submit_sm_resp,
    is_ussd,
    parse_data_sm,
    parse_incoming,
    parse_message_id,
    parse_short_message,
    peek_destination,
    tlv,
    ussd_fields,
    ussd_tlvs,
)


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
# ValueError; KeyError for a TLV its class does not declare, e.g. ussd_service_op in
# deliver_sm); each becomes our PduError so the connection handler survives it.
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
