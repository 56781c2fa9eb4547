"""Who a campaign goes to: the registry read directly (read-only), in pipelined batches.

SSCAN over the set of all listed NIKs, one pipelined HMGET per batch for the worker
records, facility regencies cached per run, the booking state when only the
unregistered are wanted, and the opt-out set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from registration.keys import Keys
from smpp.templates import first_name

FILTERABLE = ("regency", "profession", "facility_id")


def entry(nik: str, phone: str, name: str) -> str:
    """A queue entry: tab-separated (no field contains a tab after this)."""
    return "\t".join((nik, phone, name.replace("\t", " ")))


def split_entry(raw: str) -> tuple[str, str, str]:
    nik, _, rest = raw.partition("\t")
    phone, _, name = rest.partition("\t")
    return nik, phone, name


def _match(value: str, wanted: list[str]) -> bool:
    return not wanted or value.strip().lower() in {w.strip().lower() for w in wanted}


async def select(
    redis: aioredis.Redis,
    keys: Keys,
    filters: dict[str, list[str]],
    only_unregistered: bool,
    batch: int = 1000,
) -> AsyncIterator[tuple[list[str], int]]:
    """Yields (queue entries, opted-out count) per batch."""
    regency_of: dict[str, str] = {}
    optouts = keys.sms_optouts()
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
            step = 2 if only_unregistered else 1
            candidates = []
            for i, nik in enumerate(niks):
                full_name, phone, profession, facility_id = rows[i * step]
                if not phone:
                    continue
                if only_unregistered and rows[i * step + 1] in ("active", "used"):
                    continue
                if not _match(profession or "", filters.get("profession", [])):
                    continue
                if not _match(facility_id or "", filters.get("facility_id", [])):
                    continue
                candidates.append((nik, phone, full_name or "", facility_id or ""))
            if filters.get("regency"):
                missing = {c[3] for c in candidates if c[3] not in regency_of}
                if missing:
                    async with redis.pipeline(transaction=False) as pipe:
                        for fid in missing:
                            pipe.hget(keys.facility(fid), "regency")
                        for fid, reg in zip(missing, await pipe.execute(), strict=True):
                            regency_of[fid] = reg or ""
                candidates = [
                    c for c in candidates if _match(regency_of.get(c[3], ""), filters["regency"])
                ]
            out: list[str] = []
            opted = 0
            if candidates:
                flags = await redis.smismember(optouts, [c[1] for c in candidates])
                for c, flag in zip(candidates, flags, strict=True):
                    if flag:
                        opted += 1
                    else:
                        out.append(entry(c[0], c[1], first_name(c[2])))
            yield out, opted
        if cursor == 0:
            return
