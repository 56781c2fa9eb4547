"""The outbox stream keeps sent SMS only for the retention, and never an unsent one."""

from __future__ import annotations

import redis.asyncio as aioredis

from smpp.outbox_trim import trim_once
from tests.keys import AllKeys

GROUP = "sms-channel"


async def add(redis: aioredis.Redis, keys: AllKeys, n: int) -> list[str]:
    fields = {"to": "6281200000001", "text": "Kode tiket: K7Q2MX9A", "kind": "ticket"}
    return [
        await redis.xadd(keys.sms_outbox(), {**fields, "dedupe_key": f"t{i}"}) for i in range(n)
    ]


async def test_sent_entries_go_after_the_retention_pending_and_unread_ones_stay(
    redis: aioredis.Redis, keys: AllKeys
) -> None:
    stream = keys.sms_outbox()
    assert await trim_once(redis, keys, GROUP, 0) == 0  # no consumer group yet: keep all
    ids = await add(redis, keys, 6)
    await redis.xgroup_create(stream, GROUP, id="0")
    read = await redis.xreadgroup(GROUP, "sms-worker", {stream: ">"}, count=4)
    assert [i for i, _ in read[0][1]] == ids[:4]
    await redis.xack(stream, GROUP, ids[0], ids[1], ids[3])  # ids[2] sent, not answered yet

    assert await trim_once(redis, keys, GROUP, retention_seconds=3600) == 0  # all too young
    assert await trim_once(redis, keys, GROUP, retention_seconds=0) == 2
    left = [entry_id for entry_id, _ in await redis.xrange(stream)]
    assert left == ids[2:]  # the pending one and everything after it, unread ones included

    await redis.xack(stream, GROUP, ids[2])
    read = await redis.xreadgroup(GROUP, "sms-worker", {stream: ">"})
    await redis.xack(stream, GROUP, *[i for i, _ in read[0][1]])
    assert await trim_once(redis, keys, GROUP, retention_seconds=0) == 4
    assert await redis.xlen(stream) == 0
