"""A registrant's status for the channels: the stored record plus the facility.

``verify`` reads the same record when the digits match and hands it on: the
dialogue asks for the status right after verifying, in the same hop, and gets it
without another round trip (see :class:`Prefetched`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from registration.facilities import FacilityDirectory
from registration.models import RegistrantStatus
from registration.stores import RegistrantRecord

# How long a status read during verify may stand in for a fresh read: within one hop.
PREFETCH_SECONDS = 0.5
PREFETCH_MAX = 5000  # entries kept before expired ones are swept


async def build_status(
    record: RegistrantRecord | None, directory: FacilityDirectory
) -> RegistrantStatus | None:
    if record is None:
        return None
    await directory.ensure()
    return RegistrantStatus(
        worker=record.worker,
        facility=directory.get(record.worker.facility_id),
        screening=record.screening,
        ticket=record.ticket,
        dose2_due=record.dose2_due,
        history=record.history,
    )


class Prefetched:
    """Records read during ``verify``, used once and only for a moment.

    Every write this process makes for a registrant drops its entry (:meth:`forget`);
    a write by another process within the moment is indistinguishable from one that
    landed just after a fresh read.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Callable[[], RegistrantRecord]]] = {}

    def keep(self, nik: str, record: Callable[[], RegistrantRecord]) -> None:
        now = time.monotonic()
        if len(self._entries) >= PREFETCH_MAX:
            self._entries = {n: e for n, e in self._entries.items() if e[0] > now}
        self._entries[nik] = (now + PREFETCH_SECONDS, record)

    def take(self, nik: str) -> Callable[[], RegistrantRecord] | None:
        entry = self._entries.pop(nik, None)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def forget(self, nik: str) -> None:
        self._entries.pop(nik, None)
