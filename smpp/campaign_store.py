"""Campaign state in Redis: one hash of metadata and counters, a queue, an in-flight hash,
a per-recipient state hash, batch leases, the senders' heartbeats and the receipt
latency buckets, all under the campaign's hash tag `{c:<name>}` so every script
touches one slot. This module is the cold side (create, read, progress); the
sending hot path is :mod:`smpp.campaign_batches`.

At least once: a recipient moves queue -> in-flight (state "i") atomically BEFORE
its submit_sm is written; the submit_sm_resp moves it to "s:<message id>" (or back
to the queue on a temporary error, or to "f:<reason>"), a final receipt to "d",
"x" or "f:<stat>". After a crash the only ambiguous recipients are the dead
sender's in-flight ones, re-queued when its batch leases expire (at most one
window of possible duplicates, never a loss).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from core import redis_scripts
from core.redis_wire import Script
from smpp import campaign_lua, receipt_latency
from smpp.keys import SmsKeys

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STATES = ("draft", "running", "paused", "cancelled", "done")
COUNTERS = ("total", "submitted", "delivered", "failed", "expired", "opted_out")


class CampaignError(ValueError):
    pass


class StateConflict(CampaignError):
    """A state change refused: the campaign is in `state` (it may have just changed)."""

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


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
        fields = [item for pair in meta.items() for item in pair]
        if not await self._script(campaign_lua.CREATE, [self.keys.campaign_meta(name)], fields):
            raise CampaignError(f"campaign {name!r} exists already")
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
        """Plain fields only: the state changes through :meth:`change_state`."""
        await self.redis.hset(self.keys.campaign_meta(name), mapping=fields)

    async def change_state(
        self, name: str, sources: Iterable[str], target: str, **fields: str
    ) -> tuple[str, str]:
        """Move to `target` (setting `fields` along) only if the state is one of `sources`,
        in one step. -> ("ok", previous), ("refused", current) or ("missing", "")."""
        allowed = sorted(sources)
        pairs = [x for item in fields.items() for x in item]
        args = [target, len(allowed), *allowed, *pairs]
        verdict, state = await self._script(
            campaign_lua.SET_STATE, [self.keys.campaign_meta(name)], args
        )
        return str(verdict), str(state)

    async def _script(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        return await redis_scripts.run_one(self.redis, script, keys, args)

    async def progress(self, name: str) -> dict[str, Any] | None:
        camp = await self.get(name)
        if camp is None:
            return None
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(self.keys.campaign_queue(name))
            pipe.zcard(self.keys.campaign_later(name))
            pipe.hlen(self.keys.campaign_inflight(name))
            pipe.hgetall(self.keys.campaign_latency(name))
            pipe.hgetall(self.keys.campaign_senders(name))
            queued, later, inflight, latency, senders = await pipe.execute()
        # Redis's clock, not ours (senders stamp with theirs); a cluster's pipeline cannot
        # carry TIME, so it is asked on its own (a cold path: the operator's progress view).
        now, _ = await self.redis.time()
        out: dict[str, Any] = {"name": name, "state": camp.state}
        out.update({c: camp.counter(c) for c in COUNTERS})
        out["queued"] = int(queued) + int(later)
        out["retrying"] = int(later)  # of the queued: waiting to go again after an error
        out["in_flight"] = int(inflight)
        # Accepted by the SMSC, no final receipt yet.
        out["pending"] = max(0, out["submitted"] - camp.counter("receipted"))
        out["receipt_seconds"] = receipt_latency.percentiles(latency)
        live = _live_rates(senders.values(), now)
        out["senders"] = len(live)
        out["rate"] = round(float(sum(live)), 1)
        out["materialized"] = camp.meta.get("materialized") == "1"
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

    # --- sending ----------------------------------------------------------------------

    async def finish_if_sent(self, name: str) -> bool:
        """Mark a running campaign done once nothing is queued or in flight (any sender).
        One step: a pause or cancel landing meanwhile is not overwritten by "done"."""
        k = self.keys
        keys = [
            k.campaign_queue(name),
            k.campaign_later(name),
            k.campaign_inflight(name),
            k.campaign_meta(name),
        ]
        return bool(await self._script(campaign_lua.FINISH_IF_SENT, keys, [str(time.time())]))

    async def claim_materializer(self, name: str, owner: str, ttl: int = 30) -> bool:
        """Choosing the recipients is one sender's job: take (or keep) it for `ttl` seconds."""
        key = self.keys.campaign_materializer(name)
        if await self.redis.set(key, owner, nx=True, ex=ttl):
            return True
        if await self.redis.get(key) == owner:
            await self.redis.expire(key, ttl)
            return True
        return False

    async def release_materializer(self, name: str, owner: str) -> None:
        key = self.keys.campaign_materializer(name)
        if await self.redis.get(key) == owner:
            await self.redis.delete(key)

    async def opted_out(self, phones: list[str]) -> list[bool]:
        """For each phone: did it send BERHENTI/STOP?"""
        if not phones:
            return []
        return [bool(f) for f in await self.redis.smismember(self.keys.sms_optouts(), phones)]

    async def opt_out(self, phone: str) -> bool:
        """No more blasts to ``phone``; True when it was not opted out before."""
        return bool(await self.redis.sadd(self.keys.sms_optouts(), phone))

    async def opt_in(self, phone: str) -> bool:
        """Blasts to ``phone`` again (MULAI/START); True when it was opted out."""
        return bool(await self.redis.srem(self.keys.sms_optouts(), phone))

    async def recipient_state(self, name: str, nik: str) -> str | None:
        return await self.redis.hget(self.keys.campaign_state(name), nik)


def _live_rates(senders: Any, now: int, fresh: float = 5.0) -> list[float]:
    """The rates of the senders heard from in the last `fresh` seconds (a crashed one
    stays in the hash, silent)."""
    rates = []
    for value in senders:
        rate, _, rest = value.partition("\t")
        try:
            if now - float(rest.rpartition("\t")[2]) <= fresh:
                rates.append(float(rate))
        except ValueError:
            continue
    return rates
