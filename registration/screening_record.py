"""Recording a self-screening: decide, store the outcome, move the counters.

The decision, in order: an age outside this phase's eligible bands decides
without a question (registration.eligibility); else the answers given decide
(registration.screening.evaluate). The store keeps a running deferral instead
of any new outcome: nobody screens again before their retry date. Nor does it
replace anything while a booking is active: that dose's screening is done
(:data:`ALREADY_BOOKED`, a session left open elsewhere answering late), nor after
the last dose of the course (:data:`COURSE_COMPLETE`: there is no next dose).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from core import metrics
from registration import history, stats
from registration.eligibility import COURSE_COMPLETE, Eligibility
from registration.facilities import FacilityDirectory
from registration.models import ScreeningGroup, ScreeningOutcome, ScreeningResult
from registration.screening import NOT_LISTED, evaluate
from registration.stores import ScreeningEntry, Stores

# The reason id of a screening refused because a booking is active (nothing stored).
ALREADY_BOOKED = "already_booked"


class Screener:
    def __init__(
        self,
        groups: list[ScreeningGroup],
        stores: Stores,
        directory: FacilityDirectory,
        eligibility: Eligibility,
        dose2_due_read: Callable[[str, date | None], None],
        clock: Callable[[], float],
    ) -> None:
        self.groups, self._registrants, self._counters = groups, stores.registrants, stores.stats
        self._dir, self._eligibility, self._clock = directory, eligibility, clock
        self._dose2_due_read = dose2_due_read  # the times are offered next: no second read

    async def record(self, nik: str, answers: dict[str, bool]) -> ScreeningResult:
        """The outcome (deferrals dated from today, local), stored for the next dose; a
        deferral still running is answered as stored (nothing recorded, nothing counted).

        A NIK that is not listed gets NOT_ELIGIBLE with reason_id "not_listed" (nothing stored).
        """
        today = self._eligibility.today()
        by_age = self._eligibility.by_age(nik)
        result = by_age or evaluate(self.groups, answers, today)
        now = self._clock()
        at = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        # Not eligible, deferred: kept in the history (the next screening replaces the outcome).
        line = "" if result.outcome is ScreeningOutcome.ELIGIBLE else history.screened(now, result)
        entry = ScreeningEntry(result, {} if by_age else answers, at, line)
        stored = await self._registrants.record_screening(nik, entry, today)
        if stored is None:
            return ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, NOT_LISTED)
        if stored.booked:
            return ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, ALREADY_BOOKED)
        if stored.complete:
            return ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE, COURSE_COMPLETE)
        if stored.kept is not None:
            return stored.kept
        self._dose2_due_read(nik, stored.dose2_due)
        metrics.SCREENINGS.labels(result.outcome.value).inc()
        await self._dir.ensure()
        moves = stats.screened(stored.previous, result.outcome.value)
        await self._counters.count(self._dir.regency_of(stored.facility_id), moves)
        return result

    async def hold(self, nik: str) -> ScreeningResult | None:
        """Why ``nik`` cannot be screened now, fresh from the store: every dose given, an age
        outside the bands (recorded now, as a screening) or a running deferral; None: ask the
        questions."""
        if self._eligibility.by_age(nik) is not None:
            return await self.record(nik, {})
        record = await self._registrants.record(nik)
        return self._eligibility.hold(record) if record is not None else None
