"""The help desk's audit log: who did what, for whom (masked NIK), and when.

One Redis list (``ShellKeys.console_audit``), newest first, trimmed to ``[console]
audit_max_entries``. Operators read it on ``/helpdesk/audit`` and through the
operator API (``GET /api/audit``). A NIK never enters the log in clear, only
masked (:func:`core.privacy.mask_nik`); the same line goes to the server log.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis
from aiohttp import web

from core.digits import whole_number
from core.httpjson import json_error
from core.privacy import mask_nik
from ussd_server.context import CONTEXT, AppContext
from ussd_server.keys import ShellKeys
from ussd_server.settings import console_settings

log = logging.getLogger(__name__)

MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: str  # UTC, ISO 8601 to the second
    agent: str
    action: str  # login, search, view, reveal_nik, screening, book, reschedule, cancel, ...
    nik_masked: str  # "" when the action concerns nobody in particular
    detail: str


class AuditLog:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: ShellKeys,
        max_entries: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis, self._key, self._clock = redis, keys.console_audit(), clock
        self._max = max(max_entries, 1)

    @classmethod
    def of(cls, ctx: AppContext) -> AuditLog:
        return cls(
            ctx.redis, ShellKeys(ctx.key_prefix), console_settings(ctx.config).audit_max_entries
        )

    async def record(self, agent: str, action: str, nik: str = "", detail: str = "") -> AuditEntry:
        at = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="seconds")
        entry = AuditEntry(at, agent[:64], action, mask_nik(nik) if nik else "", detail[:200])
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self._key, json.dumps(asdict(entry), separators=(",", ":")))
            pipe.ltrim(self._key, 0, self._max - 1)
            await pipe.execute()
        log.info("console: %s %s %s %s", entry.agent, action, entry.nik_masked or "-", detail)
        return entry

    async def recent(self, limit: int) -> list[AuditEntry]:
        raw = await self._redis.lrange(self._key, 0, max(limit, 1) - 1)
        entries = []
        for item in raw:
            try:
                entries.append(AuditEntry(**json.loads(item)))
            except (ValueError, TypeError):  # a line written by a newer version: skip it
                continue
        return entries


async def audit_api(request: web.Request) -> web.Response:
    """``GET /api/audit?limit=N``: the latest help-desk actions, newest first."""
    limit = whole_number(request.query.get("limit", "100"))
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise json_error(web.HTTPBadRequest, f"limit: a whole number from 1 to {MAX_LIMIT}")
    entries = await AuditLog.of(request.config_dict[CONTEXT]).recent(limit)
    return web.json_response({"entries": [asdict(e) for e in entries]})
