"""The audit log stays bounded and never holds a NIK in clear; activity counts by day."""

from __future__ import annotations

from datetime import date

from core.privacy import mask_nik
from tests.ussd_harness import nik
from ussd_server.activity import ActivityCounters, channel_name
from ussd_server.console.audit import AuditLog
from ussd_server.context import AppContext
from ussd_server.keys import ShellKeys

DAY = 86400


async def test_the_audit_log_keeps_the_newest_entries_only(redis, key_prefix: str) -> None:
    audit = AuditLog(redis, ShellKeys(key_prefix), max_entries=3, clock=lambda: 1_610_000_000)
    for serial in range(5):
        await audit.record("siti.desk", "view", nik(serial))
    entries = await audit.recent(10)
    assert [e.nik_masked for e in entries] == [mask_nik(nik(s)) for s in (4, 3, 2)]
    assert entries[0].at == "2021-01-07T06:13:20+00:00"
    stored = await redis.lrange(ShellKeys(key_prefix).console_audit(), 0, -1)
    assert len(stored) == 3 and not any(nik(s) in line for s in range(5) for line in stored)


async def test_activity_is_counted_per_local_day_and_read_oldest_first(
    context: AppContext, key_prefix: str
) -> None:
    now = [1_610_040_000.0]  # 2021-01-07 17:20 UTC = 2021-01-08 00:20 WIB
    activity = ActivityCounters(context.lean, ShellKeys(key_prefix), 7.0, 30, lambda: now[0])
    await activity.count("booked:ussd")
    now[0] += DAY
    await activity.count("booked:sms")
    await activity.count("booked:sms")
    days = await activity.read(context.redis, 3)
    assert days == [
        (date(2021, 1, 7), {}),
        (date(2021, 1, 8), {"booked:ussd": 1}),
        (date(2021, 1, 9), {"booked:sms": 2}),
    ]
    key = ShellKeys(key_prefix).activity("2021-01-09")
    assert 29 * DAY < await context.redis.ttl(key) <= 30 * DAY  # kept a while, then gone


def test_a_channel_name_is_a_short_word_or_other() -> None:
    assert channel_name("USSD") == "ussd" and channel_name("whatsapp") == "whatsapp"
    assert channel_name("") == "other" and channel_name("web<script>") == "other"
