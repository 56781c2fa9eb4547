"""Registration statistics, kept incrementally in one Redis hash (`RegistryKeys.stats()`).

Fields are ``status:<name>`` and ``regency:<regency>:<name>``. Meaning:
``screened`` registrants screened at least once; ``eligible``/``deferred``/
``not_eligible`` registrants by their latest screening; ``booked`` registrants
holding an active booking now; ``cancelled`` and ``checked_in`` events so far.
Counters are updated after the state change they count (best effort: a crash in
between can leave one count off by one; the registrant records stay the truth).
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from registration.keys import RegistryKeys

STATUSES = ("screened", "eligible", "deferred", "not_eligible", "booked", "cancelled", "checked_in")


def bump(pipe: Any, keys: RegistryKeys, regency: str, status: str, by: int = 1) -> None:
    """Queue the two increments (overall and per regency) on a pipeline."""
    pipe.hincrby(keys.stats(), f"status:{status}", by)
    if regency:
        pipe.hincrby(keys.stats(), f"regency:{regency}:{status}", by)


async def read(redis: aioredis.Redis, keys: RegistryKeys) -> dict[str, Any]:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.stats())
        pipe.scard(keys.all_workers())
        pipe.scard(keys.facilities())
        raw, workers, facilities = await pipe.execute()
    totals = {name: 0 for name in STATUSES}
    by_regency: dict[str, dict[str, int]] = {}
    for field, value in raw.items():
        kind, _, rest = field.partition(":")
        if kind == "status" and rest in totals:
            totals[rest] = int(value)
        elif kind == "regency":
            regency, _, status = rest.rpartition(":")
            if status in totals:
                by_regency.setdefault(regency, {n: 0 for n in STATUSES})[status] = int(value)
    return {
        "workers_listed": int(workers),
        "facilities": int(facilities),
        "totals": totals,
        "by_regency": dict(sorted(by_regency.items())),
    }
