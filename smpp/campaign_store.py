"""Campaign state in Redis: one hash of metadata and counters, a queue, an in-flight hash
and a per-recipient state hash, all under the campaign's hash tag `{c:<name>}` so
every script below touches one slot.

Exactly-once: a recipient moves queue -> in-flight (state "i") atomically BEFORE its
submit_sm is written; the submit_sm_resp moves it to "s:<message id>" (or back to
the queue on a temporary error, or to "f:<reason>"). After a crash the only
ambiguous recipients are those still in-flight; :meth:`CampaignStore.recover`
re-queues them (at most one window of possible duplicates, never a loss).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from smpp import campaign_lua as lua
from smpp.keys import SmsKeys

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STATES = ("draft", "running", "paused", "cancelled", "done")
COUNTERS = ("total", "submitted", "delivered", "failed", "expired", "opted_out")


class CampaignError(ValueError):
    pass


@dataclass
class Campaign:
    name: str
    template: str
    filters: dict[str, list[str]]
    only_unregistered: bool
    state: str
    meta: dict[str, str]

    def counter(self, key: str) -> int:
        try:
            return int(self.meta.get(key, 0))
        except ValueError:
            return 0


class CampaignStore:
    def __init__(self, redis: aioredis.Redis, keys: SmsKeys) -> None:
        self.redis = redis
        self.keys = keys
        self._take = redis.register_script(lua.TAKE)
        self._commit = redis.register_script(lua.COMMIT)
        self._retry = redis.register_script(lua.RETRY)
        self._finish = redis.register_script(lua.FINISH)
        self._receipt = redis.register_script(lua.RECEIPT)
        self._add = redis.register_script(lua.ADD)
        self._recover = redis.register_script(lua.RECOVER)
        self._unsend = redis.register_script(lua.UNSEND)
        self._renew = redis.register_script(lua.RENEW)
        self._release = redis.register_script(lua.RELEASE)

    # --- campaigns ------------------------------------------------------------------

    async def create(
        self,
        name: str,
        template: str,
        filters: dict[str, list[str]],
        only_unregistered: bool,
        lint: dict[str, Any],
    ) -> Campaign:
        if not NAME_RE.match(name):
            raise CampaignError("name: letters, digits, '.', '_' or '-', at most 64")
        meta = {
            "name": name,
            "template": template,
            "filters": json.dumps(filters),
            "only_unregistered": "1" if only_unregistered else "0",
            "state": "draft",
            "created": str(int(time.time())),
            "lint": json.dumps(lint),
            **{c: "0" for c in COUNTERS},
        }
        key = self.keys.campaign_meta(name)
        if not await self.redis.hsetnx(key, "name", name):
            raise CampaignError(f"campaign {name!r} exists already")
        await self.redis.hset(key, mapping=meta)
        await self.redis.zadd(self.keys.campaigns(), {name: time.time()})
        return await self.get(name)  # type: ignore[return-value]

    async def get(self, name: str) -> Campaign | None:
        meta = await self.redis.hgetall(self.keys.campaign_meta(name))
        if not meta.get("name"):
            return None
        try:
            filters = json.loads(meta.get("filters") or "{}")
        except ValueError:
            filters = {}
        return Campaign(
            name,
            meta.get("template", ""),
            filters,
            meta.get("only_unregistered") == "1",
            meta.get("state", "draft"),
            meta,
        )

    async def names(self) -> list[str]:
        return list(await self.redis.zrange(self.keys.campaigns(), 0, -1))

    async def set_fields(self, name: str, **fields: str) -> None:
        await self.redis.hset(self.keys.campaign_meta(name), mapping=fields)

    async def progress(self, name: str) -> dict[str, Any] | None:
        camp = await self.get(name)
        if camp is None:
            return None
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(self.keys.campaign_queue(name))
            pipe.hlen(self.keys.campaign_inflight(name))
            queued, inflight = await pipe.execute()
        out: dict[str, Any] = {"name": name, "state": camp.state}
        out.update({c: camp.counter(c) for c in COUNTERS})
        out["queued"] = int(queued)
        out["in_flight"] = int(inflight)
        out["materialized"] = camp.meta.get("materialized") == "1"
        out["rate"] = float(camp.meta.get("rate", 0) or 0)
        out["template"] = camp.template
        out["filters"] = camp.filters
        out["only_unregistered"] = camp.only_unregistered
        try:
            out["lint"] = json.loads(camp.meta.get("lint", "{}"))
        except ValueError:
            out["lint"] = {}
        for stamp in ("created", "started", "finished"):
            if camp.meta.get(stamp):
                out[stamp] = int(float(camp.meta[stamp]))
        return out

    # --- recipients -----------------------------------------------------------------

    def _k(self, name: str) -> tuple[str, str, str, str, str]:
        k = self.keys
        return (
            k.campaign_queue(name),
            k.campaign_inflight(name),
            k.campaign_state(name),
            k.campaign_meta(name),
            k.campaign_attempts(name),
        )

    async def add(self, name: str, entries: list[str]) -> int:
        q, _, st, meta, _ = self._k(name)
        return int(await self._add(keys=[q, st, meta], args=entries)) if entries else 0

    async def take(self, name: str, n: int) -> list[str]:
        q, inf, st, _, _ = self._k(name)
        return list(await self._take(keys=[q, inf, st], args=[n]))

    async def commit(
        self, name: str, pairs: list[tuple[str, str]], mids: dict[str, str], ttl: int
    ) -> int:
        """Record submit_sm_resp successes: message id -> recipient map first, then state."""
        if mids:
            async with self.redis.pipeline(transaction=False) as pipe:
                for mid, target in mids.items():
                    pipe.set(self.keys.sms_message_id(mid), target, ex=ttl)
                await pipe.execute()
        _, inf, st, meta, _ = self._k(name)
        flat = [x for pair in pairs for x in pair]
        return int(await self._commit(keys=[inf, st, meta], args=flat)) if flat else 0

    async def retry(self, name: str, failures: list[tuple[str, str]], max_attempts: int) -> int:
        q, inf, st, meta, att = self._k(name)
        flat = [x for pair in failures for x in pair]
        if not flat:
            return 0
        return int(await self._retry(keys=[inf, st, meta, att, q], args=[max_attempts, *flat]))

    async def finish(self, name: str, counter: str, outcomes: list[tuple[str, str]]) -> int:
        _, inf, st, meta, _ = self._k(name)
        flat = [x for pair in outcomes for x in pair]
        if not flat:
            return 0
        return int(await self._finish(keys=[inf, st, meta], args=[counter, *flat]))

    async def receipt(self, name: str, nik: str, state: str, counter: str) -> bool:
        _, _, st, meta, _ = self._k(name)
        return bool(await self._receipt(keys=[st, meta], args=[nik, state, counter]))

    async def receipt_in(self, pipe: Any, name: str, nik: str, state: str, counter: str) -> None:
        """The same as :meth:`receipt`, queued on a pipeline (batched receipts)."""
        _, _, st, meta, _ = self._k(name)
        await self._receipt(keys=[st, meta], args=[nik, state, counter], client=pipe)

    async def recover(self, name: str) -> int:
        q, inf, st, _, _ = self._k(name)
        return int(await self._recover(keys=[inf, st, q]))

    async def unsend(self, name: str, entries: list[str]) -> int:
        q, inf, st, _, _ = self._k(name)
        return int(await self._unsend(keys=[inf, st, q], args=entries)) if entries else 0

    async def opted_out(self, phones: list[str]) -> list[bool]:
        """For each phone: did it send BERHENTI/STOP?"""
        if not phones:
            return []
        return [bool(f) for f in await self.redis.smismember(self.keys.sms_optouts(), phones)]

    async def opt_out(self, phone: str) -> None:
        await self.redis.sadd(self.keys.sms_optouts(), phone)

    async def recipient_state(self, name: str, nik: str) -> str | None:
        return await self.redis.hget(self.keys.campaign_state(name), nik)

    # --- the sending lease ------------------------------------------------------------

    async def acquire(self, name: str, owner: str, ttl: int = 30) -> bool:
        return bool(await self.redis.set(self.keys.campaign_lease(name), owner, nx=True, ex=ttl))

    async def break_lease(self, name: str) -> None:
        """Take the sending lease from a process that died holding it."""
        await self.redis.delete(self.keys.campaign_lease(name))

    async def renew(self, name: str, owner: str, ttl: int = 30) -> bool:
        return bool(await self._renew(keys=[self.keys.campaign_lease(name)], args=[owner, ttl]))

    async def release(self, name: str, owner: str) -> None:
        await self._release(keys=[self.keys.campaign_lease(name)], args=[owner])
