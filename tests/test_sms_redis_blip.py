"""A long incoming SMS when Redis goes away for a moment: the SMSC sends the part it got
a temporary error for again, and that must complete the message (it used to be lost)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis

from smpp import codec, concat
from smpp.service import SmsService
from tests.conftest import make_test_config, test_redis_url
from tests.keys import AllKeys
from tests.test_smpp_support import (  # noqa: F401
    Sim,
    deliver_answers,
    sim_fixture,
    smpp_overrides,
    sms_channel,
)
from tests.ussd_harness import PHONE, load_registry


class RedisProxy:
    """A TCP proxy in front of the test Redis that can drop every connection and refuse
    new ones (what the service sees when Redis is restarted or the network blips)."""

    def __init__(self) -> None:
        target = urlsplit(test_redis_url())
        self.target = target
        self.down = False
        self._open: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        auth = self.target.netloc.rpartition("@")[0]
        netloc = f"{auth}@127.0.0.1:{port}" if auth else f"127.0.0.1:{port}"
        self.url = urlunsplit(self.target._replace(netloc=netloc))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection(
            self.target.hostname, self.target.port or 6379
        )
        self._open += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
        writer.transport.abort()

    def cut(self) -> None:
        self.down = True
        for writer in self._open:
            writer.transport.abort()
        self._open = []

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@contextlib.asynccontextmanager
async def service_behind(proxy: RedisProxy, sim: Sim, prefix: str) -> AsyncIterator[SmsService]:
    config = make_test_config(prefix, **smpp_overrides(sim), **{"redis.url": proxy.url})
    async with sms_channel(config) as (svc, _):
        yield svc


def part(sequence: int, seq: int, text: bytes) -> bytes:
    """Part `seq` of 2 of one long SMS from PHONE (UDH, reference 0x33)."""
    return codec.build_submit_sm(
        sequence, source=PHONE, source_ton=1, source_npi=1, destination="1199",
        esm_class=concat.ESM_UDHI, registered_delivery=0,
        short_message=concat.udh_8bit(0x33, 2, seq) + text, command_id=codec.DELIVER_SM,
    )  # fmt: skip


async def test_a_long_sms_whose_last_part_failed_for_now_is_answered_when_it_comes_again(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> None:
    await load_registry(redis, keys)
    proxy = RedisProxy()
    await proxy.start()
    try:
        async with service_behind(proxy, sim, key_prefix):
            await sim.call("/raw", {"hex": part(701, 1, b"BANT").hex()})
            assert await deliver_answers(sim, 1) == {"0": 1}
            proxy.cut()  # Redis is gone while the last part is handled
            await sim.call("/raw", {"hex": part(702, 2, b"UAN").hex()})
            assert await deliver_answers(sim, 2) == {"0": 1, str(codec.ESME_RX_T_APPN): 1}
            proxy.down = False
            # The SMSC sends again what got a temporary error: only the last part.
            await sim.call("/raw", {"hex": part(703, 2, b"UAN").hex()})
            assert (await deliver_answers(sim, 3))["0"] == 2
            for _ in range(300):  # the outbox loop comes back after its pause
                messages = (await sim.call(f"/messages?to={PHONE}"))["messages"]
                if messages:
                    break
                await asyncio.sleep(0.05)
    finally:
        await proxy.stop()
    assert len(messages) == 1 and "VAKSIN" in messages[0]  # BANTUAN: the help text
    assert await redis.hget(keys.sms_stats(), "mo") == "1"
