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
        frames: list[codec.Frame] = []
        while not frames:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no bind_resp")
            chunk = await asyncio.wait_for(reader.read(65536), remaining)
            if not chunk:
                raise ConnectionError("SMSC closed the connection during bind")
            buffer += chunk
            frames = codec.split_frames(buffer)
        resp = frames[0]
        if resp.command_id != command | codec.RESP_BIT or resp.status:
            raise BindRejected(resp.status or codec.ESME_RBINDFAIL)
    except BaseException:
        writer.transport.abort()
        raise
    return Bound(reader, writer, buffer, frames[1:])
