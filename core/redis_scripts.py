"""Lua scripts inside pipelines without redis-py's extra round trip.

redis-py runs ``SCRIPT EXISTS`` before every pipeline that contains a script:
a second round trip on each booking. Here the script is queued as a plain
EVALSHA; if Redis lost its script cache (restart, failover) the pipeline fails
with NOSCRIPT, the scripts are loaded and the pipeline is run once more. Only
use it for pipelines whose other commands are safe to repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from core.redis_wire import Call, ScriptLike, check_one_slot


def queue(pipe: Any, script: ScriptLike, keys: Sequence[str], args: Sequence[Any]) -> None:
    # execute_command, not pipe.evalsha: redis-py's cluster pipeline refuses the method
    # (it cannot know the keys) but routes the raw command by its first key.
    if Call.check_slots:
        check_one_slot(keys, "script")
    pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)


async def run(
    redis: aioredis.Redis,
    scripts: Sequence[ScriptLike],
    build: Callable[[Any], None],
) -> list[Any]:
    """Build and execute a non-transactional pipeline; reload scripts once on NOSCRIPT."""
    for attempt in (1, 2):
        async with redis.pipeline(transaction=False) as pipe:
            build(pipe)
            try:
                return await pipe.execute()
            except NoScriptError:
                if attempt == 2:
                    raise
        for script in scripts:
            await redis.script_load(script.script)
    raise AssertionError("unreachable")


async def run_one(
    redis: aioredis.Redis, script: ScriptLike, keys: Sequence[str], args: Sequence[Any]
) -> Any:
    """One script call on its own (see :func:`run`): its reply."""

    def build(pipe: Any) -> None:
        queue(pipe, script, keys, args)

    return (await run(redis, [script], build))[0]
