"""The registration domain on memory stores: for fast unit tests of rules and dialogues.

    registry = memory_registry(config, clock=FakeClock())
    await registry.import_facilities(facility_lines)   # the same CSV as for Redis
    await registry.import_health_workers(worker_lines)

The stores keep what the Redis stores keep, with the same rules (see
registration.stores and the contract tests, which run against both). Not shared
between processes, not persistent, no crashes to repair; the clock given here also
runs the lockouts (Redis expires those on its own clock).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from core.config import Config
from registration.memory_bookings import MemoryBookings
from registration.memory_data import MemoryData
from registration.memory_facilities import MemoryFacilities
from registration.memory_registrants import MemoryRegistrants
from registration.models import Facility, HealthWorker
from registration.rules import Rules
from registration.service import Registry
from registration.stores import CounterSnapshot, FacilityRow, Moves, Stores, WorkerRow


class MemoryStats:
    def __init__(self, data: MemoryData) -> None:
        self._data = data

    async def count(self, regency: str, moves: Moves) -> None:
        for status, by in moves:
            self._data.counters["", status] += by
            if regency:
                self._data.counters[regency, status] += by

    async def read(self) -> CounterSnapshot:
        data = self._data
        return CounterSnapshot(len(data.workers), len(data.facilities), dict(data.counters))


class _WorkerBatches:
    def __init__(self, data: MemoryData) -> None:
        self._data = data

    async def send(self, batch: list[WorkerRow]) -> None:
        data = self._data
        for nik, name, phone, profession, fid in batch:
            old = data.workers.get(nik)
            if old is not None and old.phone != phone:  # a changed phone leaves its old index
                data.phones.get(old.phone, set()).discard(nik)
            if old is not None and old.facility_id != fid:
                data.facility_workers.get(old.facility_id, set()).discard(nik)
            data.workers[nik] = HealthWorker(nik, name, phone, profession, fid)
            data.phones.setdefault(phone, set()).add(nik)
            data.facility_workers.setdefault(fid, set()).add(nik)


class MemoryRegistryWriter:
    def __init__(self, data: MemoryData) -> None:
        self._data = data

    async def facility_ids(self) -> set[str]:
        return set(self._data.facilities)

    async def write_facilities(self, rows: Sequence[FacilityRow]) -> None:
        for fid, name, regency, address, capacity in rows:
            self._data.facilities[fid] = Facility(fid, name, regency, address, capacity)

    async def facilities_imported(self) -> None:
        self._data.facilities_version += 1

    @asynccontextmanager
    async def worker_batches(self) -> AsyncIterator[_WorkerBatches]:
        yield _WorkerBatches(self._data)

    async def workers_imported(self) -> None:
        self._data.workers_version += 1


class MemoryBackend:
    transient_errors: tuple[type[Exception], ...] = ()  # memory is never away

    async def warm_up(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def memory_stores(clock: Callable[[], float] = time.time) -> Stores:
    """Empty memory stores; ``clock`` runs lockouts, claim times and history stamps."""
    data = MemoryData()
    facilities = MemoryFacilities(data)
    return Stores(
        registrants=MemoryRegistrants(data, clock),
        facilities=facilities,
        bookings=MemoryBookings(data, facilities, clock),
        stats=MemoryStats(data),
        writer=MemoryRegistryWriter(data),
        backend=MemoryBackend(),
    )


def memory_registry(config: Config, *, clock: Callable[[], float] = time.time) -> Registry:
    """A Registry with the configuration's rules on empty memory stores (import CSV into it
    with ``import_facilities`` / ``import_health_workers``)."""
    return Registry(memory_stores(clock), Rules.from_config(config, clock), clock=clock)
