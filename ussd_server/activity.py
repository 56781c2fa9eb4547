"""Per-day activity for the dashboard: bookings by channel, screening outcomes, cancellations.

The Registry's statistics (:mod:`registration.stats`) say where things stand now,
by status and by regency; they do not say on which day or through which channel.
The shell counts that here, around the Registry every channel shares
(:class:`CountingRegistry`, built by ``build_context``): a booking moves one field
of the local day's hash, sent on the lean connection without waiting, so a hop
pays no round trip for it. Best effort, like the domain's counters: a crash
between the booking and the count loses one, and confirming the same slot again
(an idempotent booking) counts again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import redis.asyncio as aioredis

from core.config import Config
from core.redis_lean import FastRedis
from core.settings import redis_settings, service_settings
from registration.models import BookingOutcome, BookingResult, ScreeningResult, Ticket
from registration.service import Registry
from ussd_server.keys import ShellKeys
from ussd_server.settings import console_settings

_CHANNEL = re.compile(r"^[a-z][a-z0-9_-]{0,15}$")


def channel_name(channel: object) -> str:
    """The channel a booking call names ("ussd", "sms", "whatsapp", "web", "helpdesk")."""
    name = str(channel or "").strip().lower()
    return name if _CHANNEL.match(name) else "other"


class ActivityCounters:
    """One hash per local day (``ShellKeys.activity``), kept ``retention_days``."""

    def __init__(
        self,
        fast: FastRedis,
        keys: ShellKeys,
        utc_offset_hours: float,
        retention_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fast, self._keys, self._clock = fast, keys, clock
        self.utc_offset_hours = utc_offset_hours
        self._offset = timedelta(hours=utc_offset_hours)
        self._ttl = max(retention_days, 1) * 86400

    @classmethod
    def from_config(cls, config: Config, fast: FastRedis) -> ActivityCounters:
        settings = console_settings(config)
        return cls(
            fast,
            ShellKeys(redis_settings(config).key_prefix),
            service_settings(config).utc_offset_hours,
            settings.activity_retention_days,
        )

    def today(self) -> date:
        return (datetime.fromtimestamp(self._clock(), UTC) + self._offset).date()

    async def count(self, field: str) -> None:
        """Add one to ``field`` of today's hash, without waiting for Redis."""
        key = self._keys.activity(self.today().isoformat())
        await self._fast.send_nowait(("HINCRBY", key, field, 1), ("EXPIRE", key, self._ttl))

    async def read(self, redis: aioredis.Redis, days: int) -> list[tuple[date, dict[str, int]]]:
        """The last ``days`` local days, oldest first, each with its counts."""
        await self._fast.barrier()  # what this process sent without waiting is in
        today = self.today()
        wanted = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
        async with redis.pipeline(transaction=False) as pipe:
            for day in wanted:
                pipe.hgetall(self._keys.activity(day.isoformat()))
            replies = await pipe.execute()
        return [
            (day, {str(k): int(v) for k, v in raw.items()})
            for day, raw in zip(wanted, replies, strict=True)
        ]


class CountingRegistry(Registry):
    """The Registry, counting each booking, reschedule, cancellation and screening per day."""

    activity: ActivityCounters | None = None

    async def record_screening(self, nik: str, answers: dict[str, bool]) -> ScreeningResult:
        result = await super().record_screening(nik, answers)
        if self.activity is not None and result.reason_id != "not_listed":
            await self.activity.count(f"screened:{result.outcome.value}")
        return result

    async def book(
        self,
        nik: str,
        facility_id: str,
        day: date,
        session_id: str,
        *,
        channel: str = "",
        phone: str = "",
    ) -> BookingResult:
        result = await super().book(nik, facility_id, day, session_id, channel=channel, phone=phone)
        await self._count_booking("booked", channel, result)
        return result

    async def reschedule(
        self,
        nik: str,
        facility_id: str,
        day: date,
        session_id: str,
        *,
        channel: str = "",
        phone: str = "",
    ) -> BookingResult:
        result = await super().reschedule(
            nik, facility_id, day, session_id, channel=channel, phone=phone
        )
        await self._count_booking("rescheduled", channel, result)
        return result

    async def cancel(self, nik: str, *, code: str = "", phone: str = "") -> Ticket | None:
        ticket = await super().cancel(nik, code=code, phone=phone)
        if self.activity is not None and ticket is not None:
            await self.activity.count("cancelled")
        return ticket

    async def _count_booking(self, what: str, channel: str, result: BookingResult) -> None:
        if self.activity is not None and result.outcome is BookingOutcome.BOOKED:
            await self.activity.count(f"{what}:{channel_name(channel)}")
