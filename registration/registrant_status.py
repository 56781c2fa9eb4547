"""A registrant's status for the channels: the stored record plus the facility and
whether a screening is possible now (see registration.eligibility).

``verify`` reads the same record when the digits match and hands it on: the
dialogue asks for the status right after verifying, in the same hop, and gets it
without another round trip (see :class:`Prefetched`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from core.phone import normalise_phone
from registration.eligibility import Eligibility
from registration.facilities import FacilityDirectory
from registration.models import RegistrantStatus
from registration.stores import RegistrantRecord, RegistrantStore

# How long a status read during verify may stand in for a fresh read: within one hop.
PREFETCH_SECONDS = 0.5
PREFETCH_MAX = 5000  # entries kept before expired ones are swept


async def build_status(
    record: RegistrantRecord | None, directory: FacilityDirectory, eligibility: Eligibility
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
        hold=eligibility.hold(record),
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


class Statuses(Prefetched):
    """Statuses by NIK or phone, using a record ``verify`` just read when there is one."""

    def __init__(
        self, registrants: RegistrantStore, directory: FacilityDirectory, eligibility: Eligibility
    ) -> None:
        super().__init__()
        self._registrants, self._dir, self._eligibility = registrants, directory, eligibility

    async def by_nik(self, nik: str) -> RegistrantStatus | None:
        prefetched = self.take(nik)
        record = prefetched() if prefetched is not None else await self._registrants.record(nik)
        return await build_status(record, self._dir, self._eligibility)

    async def by_phone(self, phone: str) -> list[RegistrantStatus]:
        normalised = normalise_phone(phone)
        if not normalised.ok:
            return []
        niks = await self._registrants.niks_by_phone(normalised.value)
        # Fresh reads (a record verify kept is for a hop on that registrant's own phone),
        # and the record must hold the phone too: an import that stopped between its
        # writes can leave an index entry behind (see registration.redis_import_writes).
        found = []
        for nik in niks:
            record = await self._registrants.record(nik)
            if record is not None and record.worker.phone == normalised.value:
                found.append(await build_status(record, self._dir, self._eligibility))
        return [status for status in found if status is not None]
