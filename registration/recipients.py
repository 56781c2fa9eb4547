"""Who is listed, by filter: the registry side of a blast (read-only, pipelined batches).

SSCAN over the set of all listed NIKs, one pipelined HMGET per batch for the worker
records, facility regencies from the facility cache, and the booking state when only
the unregistered are wanted. The SMS channel gets plain :class:`Recipient` rows and
never reads a registry key itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import redis.asyncio as aioredis

from registration.facilities import FacilityDirectory
from registration.keys import RegistryKeys

FILTERABLE = ("regency", "profession", "facility_id")


@dataclass(frozen=True, slots=True)
class Recipient:
    nik: str
    phone: str  # normalised 62...
    full_name: str


def _match(value: str, wanted: list[str]) -> bool:
    return not wanted or value.strip().lower() in {w.strip().lower() for w in wanted}


async def select(
    redis: aioredis.Redis,
    keys: RegistryKeys,
    directory: FacilityDirectory,
    filters: dict[str, list[str]],
    only_unregistered: bool,
    batch: int = 1000,
) -> AsyncIterator[list[Recipient]]:
    """Yields the listed workers matching ``filters``, a batch at a time."""
    await directory.ensure(check=True)
    step = 2 if only_unregistered else 1
    cursor = 0
    while True:
        cursor, niks = await redis.sscan(keys.all_workers(), cursor, count=batch)
        if niks:
            async with redis.pipeline(transaction=False) as pipe:
                for nik in niks:
                    pipe.hmget(keys.worker(nik), "full_name", "phone", "profession", "facility_id")
                    if only_unregistered:
                        pipe.hget(keys.booking(nik), "state")
                rows = await pipe.execute()
            found = []
            for i, nik in enumerate(niks):
                full_name, phone, profession, facility_id = rows[i * step]
                if not phone:
                    continue
                if only_unregistered and rows[i * step + 1] in ("active", "used"):
                    continue
                facility = directory.get(facility_id or "")
                regency = facility.regency if facility else ""
                if not (
                    _match(profession or "", filters.get("profession", []))
                    and _match(facility_id or "", filters.get("facility_id", []))
                    and _match(regency, filters.get("regency", []))
                ):
                    continue
                found.append(Recipient(nik, phone, full_name or ""))
            yield found
        if cursor == 0:
            return
