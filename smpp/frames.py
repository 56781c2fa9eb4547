"""The SMPP byte stream: 16-byte headers, splitting a stream into PDUs, header-only PDUs.

Both ends use it (the client in :mod:`smpp.session`, the development SMSC). A bad
length, or a command id no SMPP version or vendor range has, means nothing after it
can be trusted: :class:`FramingError` tells the caller to drop the connection; any
other unreadable PDU is a :class:`PduError` and the connection carries on.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from smpp.constants import DATA_SM_RESP, DELIVER_SM_RESP, KNOWN_COMMANDS

HEADER = struct.Struct(">LLLL")
MAX_PDU = 65536


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
        if command_id not in KNOWN_COMMANDS:
            # A length that was wrong before this leaves us reading from inside a PDU: a
            # plausible length but no command id. Waiting for its bytes stalls the bind.
            del buffer[:offset]
            raise FramingError(f"unknown command_id 0x{command_id:08X}: the stream is out of step")
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
