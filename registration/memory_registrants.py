"""Registrants and verification in memory (:class:`RegistrantStore`), as Redis keeps them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from registration.memory_data import MemoryData, StoredScreening
from registration.models import HealthWorker, VerifyOutcome
from registration.stores import (
    ListedWorker,
    Lockout,
    RegistrantRecord,
    ScreeningEntry,
    ScreeningStored,
    VerifyReply,
)


class MemoryRegistrants:
    def __init__(self, data: MemoryData, clock: Callable[[], float]) -> None:
        self._data, self._clock = data, clock

    def _wrong_so_far(self, phone: str, now: float) -> int:
        count, forget_at = self._data.wrong.get(phone, (0, 0.0))
        return count if forget_at > now else 0

    async def verify(self, phone: str, digits: str, lockout: Lockout) -> VerifyReply:
        data, now = self._data, self._clock()
        locked_until = data.locked.get(phone, 0.0)
        if locked_until > now:
            return VerifyReply(VerifyOutcome.LOCKED, locked_ms=int((locked_until - now) * 1000))
        niks = data.phones.get(phone)
        if not niks:
            return VerifyReply(VerifyOutcome.NOT_LISTED)
        if len(digits) != 6 or not (digits.isascii() and digits.isdigit()):  # a typo: not counted
            return VerifyReply(
                VerifyOutcome.WRONG_DIGITS, wrong_attempts=self._wrong_so_far(phone, now)
            )
        matching = [nik for nik in niks if nik[-6:] == digits]
        if matching:
            data.wrong.pop(phone, None)
            record = self._record(min(matching))
            if record is None:
                return VerifyReply(VerifyOutcome.NOT_LISTED)
            return VerifyReply(VerifyOutcome.OK, worker=record.worker, record=lambda: record)
        wrong = self._wrong_so_far(phone, now) + 1
        if wrong >= lockout.max_attempts:
            data.wrong.pop(phone, None)
            data.locked[phone] = now + lockout.seconds
            return VerifyReply(VerifyOutcome.LOCKED, locked_ms=lockout.seconds * 1000)
        data.wrong[phone] = (wrong, now + lockout.seconds)
        return VerifyReply(VerifyOutcome.WRONG_DIGITS, wrong_attempts=wrong)

    async def worker(self, nik: str) -> HealthWorker | None:
        return self._data.workers.get(nik)

    def _record(self, nik: str) -> RegistrantRecord | None:
        data = self._data
        worker = data.workers.get(nik)
        if worker is None:
            return None
        screening = data.screenings.get(nik)
        booking = data.bookings.get(nik)
        return RegistrantRecord(
            worker=worker,
            screening=screening.result if screening else None,
            ticket=booking.ticket if booking else None,
            dose2_due=data.dose2_due.get(nik),
            history=[line for line in data.history.get(nik, "").split("\n") if line],
        )

    async def record(self, nik: str) -> RegistrantRecord | None:
        return self._record(nik)

    async def niks_by_phone(self, phone: str) -> list[str]:
        return sorted(self._data.phones.get(phone, ()))

    async def facility_of(self, nik: str) -> tuple[str, str | None]:
        worker = self._data.workers.get(nik)
        version = self._data.facilities_version
        return (worker.facility_id if worker else ""), (str(version) if version else None)

    async def record_screening(self, nik: str, entry: ScreeningEntry) -> ScreeningStored | None:
        data = self._data
        worker = data.workers.get(nik)
        if worker is None:
            return None
        previous = data.screenings.get(nik)
        dose = data.doses_done.get(nik, 0) + 1
        answers = {q: bool(a) for q, a in entry.answers.items()}
        data.screenings[nik] = StoredScreening(entry.result, answers, entry.at, dose)
        before = previous.result.outcome.value if previous else ""
        return ScreeningStored(previous=before, facility_id=worker.facility_id)

    async def listed(self, *, with_booking: bool, batch: int) -> AsyncIterator[list[ListedWorker]]:
        workers = sorted(self._data.workers.values(), key=lambda w: w.nik)
        for start in range(0, len(workers), batch):
            found = []
            for w in workers[start : start + batch]:
                booking = self._data.bookings.get(w.nik) if with_booking else None
                state = booking.ticket.state.value if booking else ""
                found.append(
                    ListedWorker(w.nik, w.full_name, w.phone, w.profession, w.facility_id, state)
                )
            yield found
