"""Keeping the outbox stream small: sent SMS leave Redis after a bounded retention.

Every entry carries a phone number and a text. Once the SMS channel has sent an
entry and acknowledged it, it is kept for ``[sms] outbox_retention_seconds`` (to
look into a complaint) and then trimmed. Trimming never touches an entry that is
not acknowledged yet: the cut-off is the oldest of "now minus the retention", the
oldest entry still pending in the consumer group, and the first entry the group
has not read.
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from smpp.keys import SmsKeys

log = logging.getLogger(__name__)

TRIM_EVERY_SECONDS = 60.0


def _parse(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _next(entry_id: str) -> str:
    ms, seq = _parse(entry_id)
    return f"{ms}-{seq + 1}"


async def safe_cutoff(
    redis: aioredis.Redis, keys: SmsKeys, group: str, retention_seconds: float
) -> str | None:
    """The stream id below which every entry is sent, acknowledged and old enough."""
    stream = keys.sms_outbox()
    if not await redis.exists(stream):
        return None
    groups = {g["name"]: g for g in await redis.xinfo_groups(stream)}
    if group not in groups:
        return None  # nobody has read the stream yet: nothing is known to be sent
    candidates = [f"{int((time.time() - retention_seconds) * 1000)}-0"]
    # Entries the group has not read yet start right after its last-delivered id.
    candidates.append(_next(str(groups[group]["last-delivered-id"])))
    pending = await redis.xpending(stream, group)
    if pending["pending"]:
        candidates.append(str(pending["min"]))
    return min(candidates, key=_parse)


async def trim_once(
    redis: aioredis.Redis, keys: SmsKeys, group: str, retention_seconds: float
) -> int:
    """Trim what may go; returns how many entries left the stream."""
    cutoff = await safe_cutoff(redis, keys, group, retention_seconds)
    if cutoff is None:
        return 0
    return int(await redis.xtrim(keys.sms_outbox(), minid=cutoff, approximate=False))


async def trim_loop(
    redis: aioredis.Redis, keys: SmsKeys, group: str, retention_seconds: float
) -> None:
    """Trim every minute (one SMS worker runs it; several would do no harm)."""
    while True:
        try:
            trimmed = await trim_once(redis, keys, group, retention_seconds)
            if trimmed:
                log.info("outbox: %d sent SMS past their retention removed", trimmed)
        except (RedisError, OSError) as exc:
            log.warning("outbox trim failed: %s", exc)
        await asyncio.sleep(TRIM_EVERY_SECONDS)
