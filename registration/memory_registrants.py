"""Registrants and verification in memory (:class:`RegistrantStore`), as Redis keeps them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from datetime import date

from registration import history
from registration.memory_data import MemoryData, StoredScreening
from registration.models import (
    FULL_COURSE,
    HealthWorker,
    ScreeningOutcome,
    TicketState,
    VerifyOutcome,
)
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

    def _wrong_within(self, phone: str, now: float, window: int) -> dict[str, float]:
        """The phone's wrong answers (id -> time) of the last ``window`` seconds."""
        answers = self._data.wrong.get(phone, {})
        recent = {a: t for a, t in answers.items() if t > now - window}
        self._data.wrong[phone] = recent
        return recent

    async def verify(
        self, phone: str, digits: str, lockout: Lockout, answer_id: str = ""
    ) -> VerifyReply:
        data, now = self._data, self._clock()
        locked_until = data.locked.get(phone, 0.0)
        if locked_until > now:
            return VerifyReply(VerifyOutcome.LOCKED, locked_ms=int((locked_until - now) * 1000))
        niks = data.phones.get(phone)
        if not niks:
            return VerifyReply(VerifyOutcome.NOT_LISTED)
        wrong = self._wrong_within(phone, now, lockout.seconds)
        if len(digits) != 6 or not (digits.isascii() and digits.isdigit()):  # a typo: not counted
            return VerifyReply(VerifyOutcome.WRONG_DIGITS, wrong_attempts=len(wrong))
        matching = [nik for nik in niks if nik[-6:] == digits]
        if matching:  # the count stays: another member's guesses are not forgiven
            record = self._record(min(matching))
            if record is None:
                return VerifyReply(VerifyOutcome.NOT_LISTED)
            return VerifyReply(VerifyOutcome.OK, worker=record.worker, record=lambda: record)
        if answer_id and answer_id in wrong:  # this answer again (sent twice): counted once
            return VerifyReply(VerifyOutcome.WRONG_DIGITS, wrong_attempts=len(wrong))
        wrong[answer_id or secrets.token_hex(6)] = now
        if len(wrong) >= lockout.max_attempts:
            data.wrong.pop(phone, None)
            data.locked[phone] = now + lockout.seconds
            ms = lockout.seconds * 1000
            return VerifyReply(VerifyOutcome.LOCKED, locked_ms=ms, locked_now=True)
        return VerifyReply(VerifyOutcome.WRONG_DIGITS, wrong_attempts=len(wrong))

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

    async def record_screening(
        self, nik: str, entry: ScreeningEntry, today: date
    ) -> ScreeningStored | None:
        data = self._data
        worker = data.workers.get(nik)
        if worker is None:
            return None
        booking = data.bookings.get(nik)
        if booking is not None and booking.ticket.state is TicketState.ACTIVE:
            return ScreeningStored("", "", booked=True)  # as in Redis: the booking stands
        dose = data.doses_done.get(nik, 0) + 1
        if dose > FULL_COURSE:  # as in Redis: no dose left to screen for
            return ScreeningStored("", "", complete=True)
        previous = data.screenings.get(nik)
        kept = previous.result if previous else None  # a running deferral stays, as in Redis
        if kept and kept.outcome is ScreeningOutcome.DEFERRED and (kept.retry_on or today) > today:
            return ScreeningStored("deferred", "", kept=kept)
        answers = {q: bool(a) for q, a in entry.answers.items()}
        if entry.history_line and kept != entry.result:  # as in Redis: not the same again
            line = f"{entry.history_line} dose {dose}"
            data.history[nik] = history.appended(data.history.get(nik, ""), line)
        data.screenings[nik] = StoredScreening(entry.result, answers, entry.at, dose)
        before = previous.result.outcome.value if previous else ""
        return ScreeningStored(before, worker.facility_id, dose2_due=data.dose2_due.get(nik))

    async def listed(self, *, with_booking: bool, batch: int) -> AsyncIterator[list[ListedWorker]]:
        workers = sorted(self._data.workers.values(), key=lambda w: w.nik)
        for start in range(0, len(workers), batch):
            found = []
            for w in workers[start : start + batch]:
                booking = self._data.bookings.get(w.nik) if with_booking else None
                state = booking.ticket.state.value if booking else ""
                doses = self._data.doses_done.get(w.nik, 0) if with_booking else 0
                found.append(
                    ListedWorker(
                        w.nik, w.full_name, w.phone, w.profession, w.facility_id, state, doses
                    )
                )
            yield found
