"""Who is listed, by filter: the registry side of a blast (read-only, in batches).

The store walks every listed worker a batch at a time; the regency comes from the
facility cache. "Unregistered" means holding no active booking and never having
used one. The SMS channel gets plain :class:`Recipient` rows and never reads the
registry's storage itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from registration.facilities import FacilityDirectory
from registration.models import TicketState
from registration.stores import ListedWorker, RegistrantStore

FILTERABLE = ("regency", "profession", "facility_id")
REGISTERED = (TicketState.ACTIVE.value, TicketState.USED.value)


@dataclass(frozen=True, slots=True)
class Recipient:
    nik: str
    phone: str  # normalised 62...
    full_name: str


def _match(value: str, wanted: list[str]) -> bool:
    return not wanted or value.strip().lower() in {w.strip().lower() for w in wanted}


def _registered(worker: ListedWorker) -> bool:
    """Holds an active booking, or has used one: a dose checked in counts even when the
    booking held now (say for dose 2) was cancelled."""
    return worker.booking_state in REGISTERED or worker.doses_done > 0


def _wanted(
    worker: ListedWorker, directory: FacilityDirectory, filters: dict[str, list[str]]
) -> bool:
    return (
        _match(worker.profession, filters.get("profession", []))
        and _match(worker.facility_id, filters.get("facility_id", []))
        and _match(directory.regency_of(worker.facility_id), filters.get("regency", []))
    )


async def select(
    registrants: RegistrantStore,
    directory: FacilityDirectory,
    filters: dict[str, list[str]],
    only_unregistered: bool,
    batch: int = 1000,
) -> AsyncIterator[list[Recipient]]:
    """Yields the listed workers matching ``filters``, a batch at a time."""
    await directory.ensure(check=True)
    async for listed in registrants.listed(with_booking=only_unregistered, batch=batch):
        yield [
            Recipient(worker.nik, worker.phone, worker.full_name)
            for worker in listed
            if worker.phone
            and not (only_unregistered and _registered(worker))
            and _wanted(worker, directory, filters)
        ]
