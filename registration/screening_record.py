"""Recording a self-screening: evaluate the answers, store the outcome, move the counters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from registration import stats
from registration.facilities import FacilityDirectory
from registration.models import ScreeningGroup, ScreeningOutcome, ScreeningResult
from registration.screening import evaluate
from registration.slots import Calendar
from registration.stores import RegistrantStore, ScreeningEntry, StatsStore


class Screener:
    def __init__(
        self,
        groups: list[ScreeningGroup],
        registrants: RegistrantStore,
        counters: StatsStore,
        directory: FacilityDirectory,
        calendar: Calendar,
        clock: Callable[[], float],
    ) -> None:
        self.groups, self._registrants, self._counters = groups, registrants, counters
        self._dir, self._calendar, self._clock = directory, calendar, clock

    async def record(self, nik: str, answers: dict[str, bool]) -> ScreeningResult:
        """The outcome (deferrals dated from today, local), stored for the next dose.

        A NIK that is not listed gets NOT_ELIGIBLE with reason_id "not_listed" (nothing stored).
        """
        result = evaluate(self.groups, answers, self._calendar.today())
        at = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="seconds")
        stored = await self._registrants.record_screening(nik, ScreeningEntry(result, answers, at))
        if stored is None:
            return ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, "not_listed")
        await self._dir.ensure()
        moves = stats.screened(stored.previous, result.outcome.value)
        await self._counters.count(self._dir.regency_of(stored.facility_id), moves)
        return result
