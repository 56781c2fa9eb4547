"""Opening a bind: connect, send bind_transmitter / _receiver / _transceiver, and wait
for the SMSC's bind_resp. Whatever fails on the way leaves no socket behind."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from smpp import codec
from smpp.settings import BindSettings


class BindRejected(ConnectionError):
    def __init__(self, status: int) -> None:
        super().__init__(f"bind rejected: {codec.status_name(status)}")
        self.status = status


@dataclass
class Bound:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    buffer: bytearray  # bytes read past the bind_resp
    frames: list[codec.Frame]  # PDUs that came in the same read as the bind_resp


async def open_bind(s: BindSettings, command: int, sequence: int, timeout: float) -> Bound:
    """Raises BindRejected, TimeoutError, ConnectionError/OSError or codec.PduError."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(s.host, s.port), timeout)
    try:
        writer.write(codec.build_bind(command, sequence, s.system_id, s.password, s.system_type))
        buffer = bytearray()
        deadline = time.monotonic() + timeout
        early: list[codec.Frame] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no bind_resp")
            chunk = await asyncio.wait_for(reader.read(65536), remaining)
            if not chunk:
                raise ConnectionError("SMSC closed the connection during bind")
            buffer += chunk
            frames = codec.split_frames(buffer)
            for n, frame in enumerate(frames):
                if _answers_bind(frame, command, sequence):
                    if frame.command_id != command | codec.RESP_BIT or frame.status:
                        raise BindRejected(frame.status or codec.ESME_RBINDFAIL)
                    return Bound(reader, writer, buffer, early + frames[n + 1 :])
                if frame.command_id == codec.ENQUIRE_LINK:  # an eager SMSC's keep-alive
                    writer.write(codec.header_only(codec.ENQUIRE_LINK_RESP, frame.sequence))
                else:  # anything else before the bind_resp waits for the session
                    early.append(frame)
    except BaseException:
        writer.transport.abort()
        raise


def _answers_bind(frame: codec.Frame, command: int, sequence: int) -> bool:
    """The bind_resp, or a generic_nack of the bind (an SMSC may send other PDUs first)."""
    if frame.command_id == codec.GENERIC_NACK:
        return frame.sequence in (sequence, 0)
    return frame.command_id == command | codec.RESP_BIT
