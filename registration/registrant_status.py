"""A registrant's whole status (record, screening, booking, history) in one round trip.

``verify`` reads the same four hashes when the digits match (one batch, one slot)
and hands them on: the dialogue asks for the status right after verifying, in
the same hop, and gets it without another round trip (see :class:`Prefetched`).
"""

from __future__ import annotations

import time
from typing import Any

from core.redis_lean import FastRedis, as_dict
from registration.facilities import FacilityDirectory
from registration.keys import RegistryKeys
from registration.models import RegistrantStatus
from registration.records import parse_day, screening_from, ticket_from, worker_from

# How long a status read during verify may stand in for a fresh read: within one hop.
PREFETCH_SECONDS = 0.5
PREFETCH_MAX = 5000  # entries kept before expired ones are swept


def status_commands(keys: RegistryKeys, nik: str) -> list[tuple[str, str]]:
    """The four reads, all in the ``{w:<nik>}`` slot; the worker record comes first."""
    return [
        ("HGETALL", keys.worker(nik)),
        ("HGETALL", keys.screening(nik)),
        ("HGETALL", keys.booking(nik)),
        ("HGETALL", keys.registrant_status(nik)),
    ]


async def build_status(
    replies: list[Any], nik: str, directory: FacilityDirectory
) -> RegistrantStatus | None:
    raw_worker, raw_screening, raw_booking, raw_status = map(as_dict, replies)
    worker = worker_from(raw_worker)
    if worker is None:
        return None
    await directory.ensure()
    history = [line for line in raw_status.get("history", "").split("\n") if line]
    return RegistrantStatus(
        worker=worker,
        facility=directory.get(worker.facility_id),
        screening=screening_from(raw_screening),
        ticket=ticket_from({**raw_booking, "nik": nik}),
        dose2_due=parse_day(raw_status.get("dose2_due")),
        history=history,
    )


async def read_status(
    fast: FastRedis, keys: RegistryKeys, directory: FacilityDirectory, nik: str
) -> RegistrantStatus | None:
    """None when the NIK is not listed."""
    return await build_status(await fast.execute_many(*status_commands(keys, nik)), nik, directory)


class Prefetched:
    """Status reads taken during ``verify``, used once and only for a moment.

    Every write this process makes for a registrant drops its entry (:meth:`forget`);
    a write by another process within the moment is indistinguishable from one that
    landed just after a fresh read.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, list[Any]]] = {}

    def keep(self, nik: str, replies: list[Any]) -> None:
        now = time.monotonic()
        if len(self._entries) >= PREFETCH_MAX:
            self._entries = {n: e for n, e in self._entries.items() if e[0] > now}
        self._entries[nik] = (now + PREFETCH_SECONDS, replies)

    def take(self, nik: str) -> list[Any] | None:
        entry = self._entries.pop(nik, None)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def forget(self, nik: str) -> None:
        self._entries.pop(nik, None)
