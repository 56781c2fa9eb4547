"""Storing a screening outcome with the registration (one round trip), and counting it."""

from __future__ import annotations

import json
from typing import Any

from core.redis_lean import Commands, FastRedis, ScriptLike
from registration import stats
from registration.facilities import FacilityDirectory
from registration.keys import RegistryKeys
from registration.models import ScreeningOutcome, ScreeningResult
from registration.records import day_key


async def store_screening(
    fast: FastRedis,
    keys: RegistryKeys,
    directory: FacilityDirectory,
    script: ScriptLike,
    nik: str,
    result: ScreeningResult,
    answers: dict[str, Any],
    stamp: str,
) -> ScreeningResult:
    """Run RECORD_SCREENING, then move the counters it decides (previous -> new outcome)."""
    script_keys = [keys.screening(nik), keys.worker(nik), keys.registrant_status(nik)]
    args = [
        result.outcome.value,
        result.reason_id,
        day_key(result.retry_on) if result.retry_on else "",
        json.dumps({k: bool(v) for k, v in answers.items()}, sort_keys=True),
        stamp,
    ]
    reply = await fast.evalsha(script, script_keys, args)
    if reply[0] == "not_listed":
        return ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, "not_listed")
    previous, facility_id = reply[0], reply[1]
    await directory.ensure()
    facility = directory.get(facility_id)
    regency = facility.regency if facility else ""
    counts = Commands()
    if not previous:
        stats.bump(counts, keys, regency, "screened")
    else:
        stats.bump(counts, keys, regency, previous, -1)
    stats.bump(counts, keys, regency, result.outcome.value)
    # Best-effort counters (see registration.stats): not waited for, which saves the
    # hop a round trip; Registry.stats() reads after a barrier on the same connection.
    await fast.send_nowait(*counts)
    return result
