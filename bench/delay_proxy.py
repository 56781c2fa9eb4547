"""A TCP proxy that holds every chunk for a fixed time each way: a peer that far away.

The far-replica benchmark puts it between a master and its replica, so that a WAIT
takes a replica round trip of another zone (2 x the delay) instead of loopback's tens
of microseconds. Runs its own event loop in a daemon thread; order is kept per
direction (each chunk is due its arrival time + the delay).
"""

from __future__ import annotations

import asyncio
import threading
import time


async def _forward(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                writer.close()
                return
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            writer.write(data)

    delivering = asyncio.ensure_future(deliver())
    while True:
        try:
            data = await reader.read(65536)
        except OSError:
            data = b""
        queue.put_nowait((time.monotonic() + delay, data))
        if not data:
            break
    await asyncio.gather(delivering, return_exceptions=True)


class DelayProxy:
    """127.0.0.1:``port`` -> 127.0.0.1:``target``, ``delay_ms`` each way."""

    def __init__(self, port: int, target: int, delay_ms: float) -> None:
        self.port, self.target, self.delay = port, target, delay_ms / 1000
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        threading.Thread(target=self._run, name="delay-proxy", daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("the delay proxy did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._pair, "127.0.0.1", self.port)
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _pair(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            far_reader, far_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            _forward(reader, far_writer, self.delay),
            _forward(far_reader, writer, self.delay),
            return_exceptions=True,
        )
