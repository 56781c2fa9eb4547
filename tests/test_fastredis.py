"""The lean hot-path client: scripts after a flush or restart, errors, the one-trip outbox.

Script-cache flushes and restarts happen on a private redis-server, never the shared one.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from core import outbox
from core.config import Config
from core.redis_client import lean_like
from core.redis_lean import Call, FastRedis, FastRedisError, Script
from registration.models import BookingOutcome
from registration.records import day_key
from tests.conftest import TEST_REDIS_URL
from tests.keys import AllKeys
from tests.redis_server import free_port, needs_redis_server, own_redis, replicate
from tests.test_registration_support import nik, registry_with, screened

DAY = date(2021, 1, 14)  # tomorrow for the FakeClock
COUNT = Script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
OUTCOMES = ("ok", "reconnected", "too_few")


@needs_redis_server
async def test_scripts_run_after_a_flush_and_after_a_restart(tmp_path: Path) -> None:
    server = own_redis(tmp_path)
    fast = FastRedis(server.url, timeout=2.0)
    admin = aioredis.Redis.from_url(server.url, decode_responses=True)
    try:
        fast.register(COUNT)
        assert await fast.evalsha(COUNT, ["n"], [2]) == 2
        await admin.script_flush()  # what a failover or SCRIPT FLUSH looks like
        replies = await fast.batch([("SET", "a", "1"), Call(COUNT, ["n"], [3]), ("GET", "a")])
        assert replies == ["OK", 5, "1"]
        server.stop()
        with pytest.raises(FastRedisError) as lost:
            await fast.execute("PING")
        assert isinstance(lost.value, OSError) and isinstance(lost.value, aioredis.RedisError)
        server.start()  # no persistence: no data, no scripts
        assert await fast.execute("PING") == "PONG"  # reconnected, scripts loaded on connect
        await admin.connection_pool.disconnect()  # its connection died with the old server
        assert await admin.script_exists(COUNT.sha) == [True]
        assert await fast.evalsha(COUNT, ["n"], [1]) == 1
    finally:
        await fast.aclose()
        await admin.aclose()
        server.stop()


def _waits() -> dict[str, float]:
    """vaksin_redis_waits_total by outcome, and how many WAITs were timed, so far."""
    sample = REGISTRY.get_sample_value
    counts = {o: sample("vaksin_redis_waits_total", {"outcome": o}) or 0.0 for o in OUTCOMES}
    return {**counts, "timed": sample("vaksin_redis_wait_seconds_count") or 0.0}


@needs_redis_server
async def test_a_wait_on_a_newer_connection_does_not_confirm_older_writes(tmp_path: Path) -> None:
    """...and every WAIT shows on /metrics: ok, reconnected, or too few replicas in time."""
    primary, replica = own_redis(tmp_path / "primary"), own_redis(tmp_path / "replica")
    fast = FastRedis(primary.url, timeout=5.0)
    fast.replicas, fast.replicas_timeout_ms = 1, 2000
    admin = aioredis.Redis.from_url(primary.url, decode_responses=True)
    before = _waits()
    try:
        await replicate(primary, replica)
        await fast.execute("SET", "seat", "1")
        await fast.wait_replicas("seat", since=fast.epoch)  # the same connection: confirmed
        await fast.execute("SET", "seat", "2")
        epoch = fast.epoch
        await admin.client_kill_filter(_type="normal", skipme=True)  # drops the lean client
        await asyncio.sleep(0.1)
        with pytest.raises(FastRedisError, match="reconnected since the writes"):
            await fast.wait_replicas("seat", since=epoch)  # ran on a new connection
        await fast.wait_replicas("seat")  # without since: what WAIT itself says
        replica.stop()
        fast.replicas_timeout_ms = 100
        with pytest.raises(FastRedisError, match="reached 0 of 1 replica"):
            await fast.wait_replicas("seat")
        moved = {k: v - before[k] for k, v in _waits().items()}
        assert moved == {"ok": 2, "reconnected": 1, "too_few": 1, "timed": 4}
    finally:
        await fast.aclose()
        await admin.aclose()
        replica.stop()
        primary.stop()


async def test_error_replies_raise_and_the_connection_goes_on(key_prefix: str) -> None:
    fast = FastRedis(TEST_REDIS_URL)
    key = f"{key_prefix}:text"
    try:
        with pytest.raises(aioredis.ResponseError):
            await fast.execute_many(("SET", key, "abc"), ("INCR", key), ("APPEND", key, "d"))
        assert await fast.execute("GET", key) == "abcd"  # every reply was consumed in order
    finally:
        await fast.execute("DEL", key)
        await fast.aclose()


async def test_unreachable_redis_is_a_connection_error() -> None:
    fast = FastRedis(f"redis://127.0.0.1:{free_port()}/0", timeout=1.0)
    with pytest.raises(FastRedisError):
        await fast.execute("PING")
    await fast.aclose()


async def test_outbox_queues_once(redis: aioredis.Redis, keys: AllKeys) -> None:
    fast, other_client = lean_like(redis), lean_like(redis)
    box, other_box = outbox.Outbox(fast, keys), outbox.Outbox(other_client, keys)
    sms = outbox.OutboundSms("6281200000001", "Kode tiket: ABC", "ticket", "ticket:ABC")
    try:
        assert await box.enqueue(sms) is True
        assert await box.enqueue(sms) is False  # a retransmitted hop
        assert await other_box.enqueue(sms) is False  # same marker, other connection
        entries = await redis.xrange(keys.sms_outbox())
        assert [fields for _, fields in entries] == [
            {"to": sms.to, "text": sms.text, "kind": "ticket", "dedupe_key": "ticket:ABC"}
        ]
        other = outbox.OutboundSms(sms.to, "again", "ticket_resend", "ticket-resend:ABC:1")
        assert await other_box.enqueue(other) is True
        assert await redis.xlen(keys.sms_outbox()) == 2
    finally:
        await fast.aclose()
        await other_client.aclose()


async def test_refused_bookings_hold_no_seat_and_leave_no_ticket(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    registry = await registry_with(config, redis, keys, workers=3)
    try:
        await screened(registry, nik(0))
        first = await registry.book(nik(0), "PKM-01", DAY, "pagi")
        assert first.outcome is BookingOutcome.BOOKED and first.ticket is not None
        refused = [
            await registry.book(nik(1), "PKM-01", DAY, "pagi"),  # not screened
            await registry.book(nik(0), "PKM-01", DAY, "siang"),  # already booked
            await registry.book(nik(0), "PKM-01", DAY, "pagi"),  # the same slot again
        ]
        assert [r.outcome for r in refused] == ["not_eligible", "already_booked", "booked"]
        assert refused[1].ticket == first.ticket and refused[2].ticket == first.ticket
        booked = await redis.hgetall(keys.slot_booked("PKM-01", day_key(DAY)))
        # The seats taken alongside the refused claims were given back.
        assert {session: n for session, n in booked.items() if n != "0"} == {"pagi": "1"}
        tickets = [k async for k in redis.scan_iter(match=f"{keys.prefix}:t:*")]
        assert tickets == [keys.ticket(first.ticket.code)]
        assert await redis.zcard(keys.pending_releases()) == 0
        slots = await registry.available_slots("PKM-01")
        assert next(s for s in slots if s.day == DAY and s.session_id == "pagi").booked == 1
    finally:
        await registry.aclose()


async def test_concurrent_callers_get_their_own_answers(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    """Many calls in flight on the one connection: each reply goes to its own caller."""
    registry = await registry_with(config, redis, keys, workers=20)
    try:
        found = await asyncio.gather(
            *(registry.verify(f"62812{i:08d}", nik(i)[-6:]) for i in range(20)),
            *(registry.status_by_nik(nik(i)) for i in range(20)),
        )
        assert [v.worker.nik for v in found[:20]] == [nik(i) for i in range(20)]
        assert [s.worker.phone for s in found[20:]] == [f"62812{i:08d}" for i in range(20)]
    finally:
        await registry.aclose()


async def test_status_right_after_verify_sees_writes_made_since(
    redis: aioredis.Redis, keys: AllKeys, config: Config
) -> None:
    """verify reads the status along; a booking or screening in between is never hidden."""
    registry = await registry_with(config, redis, keys, workers=2)
    try:
        ok = await registry.verify("6281200000000", nik(0)[-6:])
        assert ok.worker is not None
        status = await registry.status_by_nik(nik(0))
        assert status is not None and status.screening is None and status.ticket is None
        await registry.verify("6281200000000", nik(0)[-6:])
        await screened(registry, nik(0))
        status = await registry.status_by_nik(nik(0))
        assert status is not None and status.screening is not None
        await registry.verify("6281200000000", nik(0)[-6:])
        booked = await registry.book(nik(0), "PKM-01", DAY, "pagi")
        status = await registry.status_by_nik(nik(0))
        assert status is not None and status.ticket == booked.ticket
    finally:
        await registry.aclose()


async def test_outbox_queued_without_waiting_is_there_after_the_next_command(
    redis: aioredis.Redis, keys: AllKeys
) -> None:
    fast = lean_like(redis)
    sms = outbox.OutboundSms("6281200000001", "Kode tiket: XYZ", "ticket", "ticket:XYZ")
    try:
        box = outbox.Outbox(fast, keys)
        await box.enqueue_nowait(sms)
        await box.enqueue_nowait(sms)  # a retransmitted hop
        await fast.barrier()  # what the hop's session write does
        assert await redis.xlen(keys.sms_outbox()) == 1
        assert await box.enqueue(sms) is False
    finally:
        await fast.aclose()


async def test_a_command_that_cannot_be_encoded_leaves_the_replies_in_order(
    redis: aioredis.Redis, keys: AllKeys
) -> None:
    fast = lean_like(redis)
    key = f"{keys.prefix}:order"
    try:
        await fast.execute("SET", key, "before")
        with pytest.raises(TypeError):
            await fast.execute("SET", key, object())  # hiredis cannot pack an object
        with pytest.raises(TypeError):
            await fast.execute_many(("GET", key), ("SET", key, object()))
        # Every later caller still gets its own reply, not the one before it.
        assert await fast.execute("GET", key) == "before"
        assert await fast.execute_many(("SET", key, "after"), ("GET", key)) == ["OK", "after"]
    finally:
        await fast.aclose()
