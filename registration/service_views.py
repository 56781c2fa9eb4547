"""The Registry's operator views: blast recipients, the counters, the facilities' load.

Part of the facade :class:`registration.service.Registry`, which inherits them: they
only read, and live in a module of their own so that service.py stays small.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from registration import overview, recipients, stats
from registration.facilities import FacilityDirectory
from registration.overview import FacilityLoad
from registration.recipients import Recipient
from registration.slots import Calendar
from registration.stats import RegistryStats
from registration.stores import Stores


class OperatorViews:
    """What operators read; the Registry sets the stores, the directory and the calendar."""

    _stores: Stores
    _directory: FacilityDirectory
    _calendar: Calendar

    def recipients(
        self, filters: dict[str, list[str]], only_unregistered: bool
    ) -> AsyncIterator[list[Recipient]]:
        """Listed workers matching ``filters`` (regency, profession, facility_id), in batches;
        ``only_unregistered`` leaves out those holding or having used a booking."""
        return recipients.select(
            self._stores.registrants, self._directory, filters, only_unregistered
        )

    async def stats(self) -> RegistryStats:
        """Counters by status and by regency (see registration.stats for their meaning)."""
        return stats.view(await self._stores.stats.read())

    async def facility_overview(self) -> list[FacilityLoad]:
        """Each facility with its capacity and booked seats over the booking window."""
        await self._directory.ensure(check=True)
        facilities = self._directory.all()
        return await overview.facility_overview(
            self._stores.facilities, self._calendar, facilities, self._calendar.window()
        )
