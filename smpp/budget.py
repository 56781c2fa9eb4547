"""The messages-per-second budget of one SMSC account, shared by every bind and every
process sending to it: the contract counts the account, not the connection.

A token bucket lives in Redis (one hash per account, hash-tagged, Redis's clock,
a burst of 1 % of the rate): a sender takes every whole token there is, spends
them at once and asks again; when the bucket is empty Redis says how long until
a few (a quarter of the burst) are there. Tokens left unspent for more than a few milliseconds are
dropped, so nobody can save them up into a burst the SMSC would count. USSD
answers never wait for the budget (a hop is answered at once); they are charged
to it afterwards. If Redis cannot be reached, each process paces itself alone at
the whole rate until it can (the SMSC may then throttle, which is handled).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Protocol

from redis.exceptions import RedisError

from core.aio import run_held
from core.redis_lean import FastRedis
from core.redis_wire import Script
from smpp.keys import SmsKeys
from smpp.ratelimit import TokenBucket
from smpp.settings import BindSettings

log = logging.getLogger(__name__)

# KEYS: the account's bucket. ARGV: rate/s, burst, tokens worth waiting for, tokens
# already spent without asking (USSD answers). -> {tokens granted (every whole one there
# is: none is left to overflow while the asker is busy), microseconds to wait when none}.
BUDGET = Script("""
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local want, spent = tonumber(ARGV[3]), tonumber(ARGV[4])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens, stamp = tonumber(saved[1]), tonumber(saved[2])
if not tokens then tokens, stamp = 0, now end
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate) - spent
local grant = 0
if want > 0 then grant = math.max(0, math.floor(tokens)) end
tokens = tokens - grant
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
if grant > 0 or want == 0 then return {grant, 0} end
return {0, math.ceil((want - tokens) / rate * 1000000)}
""")


class Budget(Protocol):
    async def take(self) -> None: ...

    def charge(self) -> None: ...


def account(bind: BindSettings) -> str:
    """One SMSC account: the same system_id at the same host and port."""
    return f"{bind.system_id}@{bind.host}:{bind.port}"


class SharedBudget:
    def __init__(self, lean: FastRedis, key: str, rate: float) -> None:
        self.lean, self.key, self.rate = lean, key, float(rate)
        # A burst of 1 % (as an SMSC counting per second tolerates), waits for a quarter of
        # it (the rest is slack for a late wake-up), grants spent within 5 ms or dropped:
        # no second ever sees more than about 1.015 x the rate leave, whoever sends.
        self.burst = max(1.0, self.rate * 0.01)
        self.chunk = max(1, math.ceil(self.burst / 4))
        self.max_age = 0.005
        self.tokens = 0
        self.granted_at = 0.0
        self.spent = 0  # charged (USSD) and not yet told to Redis
        self._asking: asyncio.Future[None] | None = None
        self._alone = TokenBucket(self.rate)  # while Redis cannot be reached
        self._alone_until = 0.0
        self._settling: set[asyncio.Task[None]] = set()
        lean.register(BUDGET)

    async def take(self) -> None:
        while True:
            if self.tokens and time.monotonic() - self.granted_at < self.max_age:
                self.tokens -= 1
                return
            self.tokens = 0  # unspent too long: saving them up would make a burst
            if time.monotonic() < self._alone_until:
                await self._alone.take()
                return
            await self._ask(self.chunk)

    def charge(self) -> None:
        """One message sent without waiting (a USSD answer): spent from the budget."""
        if self.tokens:
            self.tokens -= 1
            return
        self.spent += 1
        if self._asking is None and not self._settling:
            run_held(self._settling, self._ask(0))

    async def _ask(self, want: int) -> None:
        """One request to Redis at a time; concurrent takers wait for it and look again."""
        if self._asking is not None:
            await asyncio.shield(self._asking)
            return
        done = self._asking = asyncio.get_running_loop().create_future()
        spent, self.spent = self.spent, 0
        try:
            grant, wait_us = await self.lean.evalsha(
                BUDGET, [self.key], [self.rate, self.burst, want, spent]
            )
            if grant:
                self.tokens += int(grant)
                self.granted_at = time.monotonic()
            elif want:
                await asyncio.sleep(max(int(wait_us) / 1e6, 0.0005))
        except (RedisError, OSError) as exc:
            log.warning("SMSC budget in Redis unavailable (%s): pacing this process alone", exc)
            self._alone_until = time.monotonic() + 1.0
        finally:
            self._asking = None
            done.set_result(None)


class LocalBudget(TokenBucket):
    """The budget paced in this process only (no Redis given: tools and tests)."""

    def charge(self) -> None:
        self.tokens -= 1.0


class Budgets:
    """One budget per SMSC account with a rate, shared by the pool's sessions."""

    def __init__(self, lean: FastRedis | None, keys: SmsKeys | None) -> None:
        self.lean, self.keys = lean, keys
        self._by_account: dict[str, Budget] = {}

    def for_bind(self, bind: BindSettings) -> Budget | None:
        if bind.rate <= 0:
            return None
        name = account(bind)
        budget = self._by_account.get(name)
        if budget is None:
            if self.lean is not None and self.keys is not None:
                budget = SharedBudget(self.lean, self.keys.smsc_budget(name), bind.rate)
            else:
                budget = LocalBudget(bind.rate)
            self._by_account[name] = budget
        return budget
