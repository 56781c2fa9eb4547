"""A health-worker import that stops between its writes (its process killed, Redis gone)
must never leave a phone that reaches a worker whose record holds another phone: that
old number may be someone else's by now. Importing the file again cleans up.

Real Redis, the real import: it talks to Redis through a TCP proxy that passes its
commands on up to a chosen one and then nothing more, from any connection. What Redis
has not received when a process dies, it never runs: Redis is left exactly as by an
import that died just before sending that command.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

import aiohttp
import redis.asyncio as aioredis

from core.config import Config
from core.redis_client import connect
from core.settings import redis_settings
from registration import redis_import
from registration.models import VerifyOutcome
from registration.service import Registry
from tests.conftest import make_test_config, test_redis_url
from tests.keys import AllKeys
from tests.test_registration_import import write_path_fixture  # noqa: F401  (fixture)
from tests.test_registration_support import (
    STANDARD_FACILITIES,
    FakeClock,
    facilities_csv,
    nik,
    workers_csv,
)
from tests.ussd_harness import AtPhone, running_server

WHO, HOUSEMATE = nik(41), nik(42)
OLD, NEW = "6281211110041", "6281299990041"  # WHO's phone before and after the move


class CutProxy:
    """Between the import and Redis: passes everything on until a client sends a command
    named ``cut_at``; from then on nothing more any client sends reaches Redis (the bytes
    before that command are passed on, so Redis runs exactly the commands before it)."""

    def __init__(self, cut_at: str) -> None:
        target = urlparse(test_redis_url())
        self._upstream = (target.hostname or "127.0.0.1", target.port or 6379)
        self._pattern = f"${len(cut_at)}\r\n{cut_at}\r\n".encode()
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.reached = asyncio.Event()
        self.url = ""

    async def start(self) -> CutProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = urlparse(test_redis_url())._replace(netloc=f"127.0.0.1:{port}").geturl()
        return self

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        self._writers += [writer, up_writer]
        await asyncio.gather(
            self._commands(reader, up_writer), self._replies(up_reader, writer),
            return_exceptions=True,
        )  # fmt: skip

    async def _commands(self, reader: asyncio.StreamReader, up: asyncio.StreamWriter) -> None:
        held = b""  # the end of a read that may be the start of the command looked for
        while data := await reader.read(65536):
            if self.reached.is_set():
                continue  # never reaches Redis
            data = held + data
            found = data.find(self._pattern)
            if found >= 0:  # its array header may pass: Redis waits for the rest, runs nothing
                up.write(data[:found])
                self.reached.set()
                continue
            keep = next(
                (n for n in range(len(self._pattern) - 1, 0, -1)
                 if data.endswith(self._pattern[:n])), 0,
            )  # fmt: skip
            held = data[len(data) - keep :]
            up.write(data[: len(data) - keep])
            await up.drain()

    async def _replies(self, up: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await up.read(65536):
            writer.write(data)
            await writer.drain()

    async def close(self) -> None:
        """Every connection gone, as when the importing process dies."""
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()


async def import_stopped_before(prefix: str, cut_at: str, phone: str) -> None:
    """Import WHO with ``phone``, the process dying just before it sends ``cut_at``."""
    proxy = await CutProxy(cut_at).start()
    through = connect(redis_settings(make_test_config(prefix, **{"redis.url": proxy.url})))
    keys = AllKeys(prefix)
    upload = asyncio.create_task(redis_import.import_health_workers(through, keys, _listing(phone)))
    reached = asyncio.create_task(proxy.reached.wait())
    await asyncio.wait([upload, reached], timeout=30, return_when=asyncio.FIRST_COMPLETED)
    assert reached.done(), f"the import never sent {cut_at}"
    await proxy.close()
    upload.cancel()
    await asyncio.wait([upload], timeout=30)
    await through.aclose()


def _listing(phone: str, housemate: bool = False) -> list[str]:
    rows = [f"{WHO},Siti Pindah,0{phone[2:]},Perawat,PKM-01"]
    if housemate:
        rows.append(f"{HOUSEMATE},Budi Serumah,0{OLD[2:]},Bidan,PKM-01")
    return list(workers_csv(*rows))


async def _indexed_under(redis: aioredis.Redis, keys: AllKeys) -> list[str]:
    return [p for p in (OLD, NEW) if await redis.sismember(keys.phone_index(p), WHO)]


async def test_an_import_stopped_between_writes_lists_no_one_under_a_phone_not_theirs(
    redis: aioredis.Redis, keys: AllKeys, config: Config, key_prefix: str, write_path: str
) -> None:
    """Every point the write path can stop at on its way (before unlinking the old phone,
    before the records, before the new index entries): no phone index lists WHO under a
    phone its record does not hold, nor does a lookup find it there; importing the file
    again leaves WHO under the new phone only."""
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    registry = Registry.from_config(config, redis, clock=FakeClock())
    try:
        for cut_at in ("SREM", "HSET", "SADD"):
            await redis_import.import_health_workers(redis, keys, _listing(OLD))
            assert await _indexed_under(redis, keys) == [OLD]
            await import_stopped_before(key_prefix, cut_at, NEW)
            await redis.delete(keys.worker_import_lock())  # its lease would end in 30 s
            holds = await redis.hget(keys.worker(WHO), "phone")
            for phone in await _indexed_under(redis, keys):
                assert phone == holds, f"stopped before {cut_at}: {phone} lists WHO"
            # It got under way: before the new index entries, the record was written.
            assert holds == (NEW if cut_at == "SADD" else OLD), cut_at
            for phone in (OLD, NEW):  # the operator's look-up (it removes nothing)
                found = [s.worker.nik for s in await registry.status_by_phone(phone)]
                assert found in ([], [WHO]) and (not found or phone == holds), cut_at

            report = await redis_import.import_health_workers(redis, keys, _listing(NEW))
            assert report.rows_ok == 1
            assert await _indexed_under(redis, keys) == [NEW], f"stopped before {cut_at}"
            assert await redis.smembers(keys.phone_index(NEW)) == {WHO}
            old = await registry.verify(OLD, WHO[-6:])
            assert old.outcome is VerifyOutcome.NOT_LISTED, cut_at
            assert (await registry.verify(NEW, WHO[-6:])).outcome is VerifyOutcome.OK
    finally:
        await registry.aclose()


async def test_an_old_phone_an_earlier_version_left_in_the_index_reaches_nobody(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    """What an import of an earlier version left when it stopped between writing the new
    phone and unlinking the old (production data): the old number, now someone else's,
    dials *119# and types WHO's digits: not listed. Lookups ignore the entry, verify
    removes it; a household member listed on that phone is still found."""
    await redis_import.import_facilities(redis, keys, facilities_csv(*STANDARD_FACILITIES))
    await redis_import.import_health_workers(redis, keys, _listing(NEW))
    await redis.sadd(keys.phone_index(OLD), WHO)  # left behind
    async with running_server(config) as base, aiohttp.ClientSession() as http:
        phone = AtPhone(http, base, OLD, "stale-1")
        await phone.dial()
        await phone.send("1")
        await phone.send("1")
        screen = await phone.send(WHO[-6:])
        assert phone.ended and "SISDMK" in screen, screen  # the not-listed screen
    assert await _indexed_under(redis, keys) == [NEW]  # removed on the way

    registry = Registry.from_config(config, redis, clock=FakeClock())
    try:
        await redis.sadd(keys.phone_index(OLD), WHO)
        assert await registry.status_by_phone(OLD) == []
        assert (await registry.verify(OLD, WHO[-6:])).outcome is VerifyOutcome.NOT_LISTED
        assert (await registry.verify(NEW, WHO[-6:])).outcome is VerifyOutcome.OK

        await redis_import.import_health_workers(redis, keys, _listing(NEW, housemate=True))
        await redis.sadd(keys.phone_index(OLD), WHO)
        assert [s.worker.nik for s in await registry.status_by_phone(OLD)] == [HOUSEMATE]
        wrong = await registry.verify(OLD, WHO[-6:])  # a guess at the housemate's digits
        assert (wrong.outcome, wrong.attempts_left) == (VerifyOutcome.WRONG_DIGITS, 2)
        mate = await registry.verify(OLD, HOUSEMATE[-6:])
        assert mate.worker is not None and mate.worker.nik == HOUSEMATE
        assert await redis.smembers(keys.phone_index(OLD)) == {HOUSEMATE}
    finally:
        await registry.aclose()
