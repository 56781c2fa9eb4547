"""Facility records cached in-process: they change only on import.

Every import bumps the facilities' import version (:meth:`FacilityStore.version`).
Callers on the hot path read that version together with their own data (no extra
round trip, see :meth:`RegistrantStore.facility_of`) or at most once a second
(:meth:`FacilityDirectory.ensure_recent`); the TTL is a safety net after which the
version is re-read. Only a changed version reloads the records.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from registration.models import Facility
from registration.stores import FacilityStore

UNKNOWN = object()  # "the caller did not read the version"


class FacilityDirectory:
    def __init__(
        self,
        store: FacilityStore,
        ttl_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self._ttl, self._monotonic = store, ttl_seconds, monotonic
        self._by_id: dict[str, Facility] = {}
        self._by_regency: dict[str, list[Facility]] = {}
        self._version: str | None = None
        self._loaded = False
        self._loaded_at = float("-inf")
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()
        self._reading: asyncio.Future[str | None] | None = None

    async def ensure(self, version: object = UNKNOWN, *, check: bool = False) -> None:
        """Make the cache current enough.

        ``version`` is the import version the caller read (str, or None when nothing was
        imported), or UNKNOWN. With ``check`` or once the TTL passed the version is read
        here. Only a different version reloads; while one caller reloads, the others keep
        answering from the data they have.
        """
        now = self._monotonic()
        if version is UNKNOWN and (check or now - self._loaded_at >= self._ttl):
            version = await self._read_version()
        if self._loaded and (version is UNKNOWN or version == self._version):
            if version is not UNKNOWN:
                self._loaded_at = now  # confirmed current
            return
        if self._loaded and self._lock.locked():
            return
        async with self._lock:
            if self._loaded and version == self._version:
                return  # reloaded by another caller meanwhile
            await self._load()

    async def _read_version(self) -> str | None:
        """One read of the import version for every caller who needs it now: once the TTL
        has passed, a burst of bookers would each read it (hundreds of Redis calls at once,
        more than a cluster client's connections)."""
        reading = self._reading
        if (
            reading is None
            or reading.done()
            or reading.get_loop() is not asyncio.get_running_loop()
        ):
            reading = self._reading = asyncio.ensure_future(self._store.version())
        return await asyncio.shield(reading)

    async def ensure_recent(self, check_every: float = 1.0) -> None:
        """Like :meth:`ensure`, reading the version at most once per ``check_every`` seconds."""
        if self._monotonic() - self._checked_at >= check_every:
            self._checked_at = self._monotonic()
            await self.ensure(check=True)
        else:
            await self.ensure()

    async def _load(self) -> None:
        version, facilities = await self._store.load()
        by_id = {facility.facility_id: facility for facility in facilities}
        by_regency: dict[str, list[Facility]] = {}
        for facility in by_id.values():
            by_regency.setdefault(facility.regency.lower(), []).append(facility)
        for members in by_regency.values():
            members.sort(key=lambda f: (f.name.lower(), f.facility_id))
        self._by_id, self._by_regency = by_id, by_regency
        self._version, self._loaded_at = version, self._monotonic()
        self._loaded = True

    async def find(self, facility_id: str) -> Facility | None:
        """The facility, checking for a newer import when it is not (yet) known here."""
        await self.ensure()
        facility = self.get(facility_id)
        if facility is None:  # maybe imported a moment ago in another process
            await self.ensure(check=True)
            facility = self.get(facility_id)
        return facility

    def get(self, facility_id: str) -> Facility | None:
        return self._by_id.get(facility_id)

    def regency_of(self, facility_id: str) -> str:
        """The facility's regency, "" when unknown (counters then move only overall)."""
        facility = self._by_id.get(facility_id)
        return facility.regency if facility else ""

    def all(self) -> list[Facility]:
        return sorted(self._by_id.values(), key=lambda f: f.facility_id)

    def choices_for(self, assigned_id: str) -> list[Facility]:
        """The assigned facility first, then the others of its regency by name."""
        assigned = self._by_id.get(assigned_id)
        if assigned is None:
            return []
        others = [
            f
            for f in self._by_regency.get(assigned.regency.lower(), [])
            if f.facility_id != assigned_id
        ]
        return [assigned, *others]
