"""(phone, last 6 NIK digits) -> the registrant, with attempt counting and lockout.

One Lua script on the phone's keys (all tagged ``{p:<phone>}``) decides in one
round trip: locked? listed? which NIK of the household ends in these digits?
Then one more batch reads the matching worker record and the rest of the
registrant's status: they live in another Cluster slot (``{w:<nik>}``), which a
script on the phone's keys may not touch. Both go
over the lean client (:mod:`core.redis_lean`), a few microseconds each.
A malformed answer (not 6 digits) is reported as wrong but not counted: it
cannot be a guess, only a typo.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from core.phone import normalise_phone
from core.redis_lean import FastRedis, as_dict
from registration.keys import RegistryKeys
from registration.models import Verification, VerifyOutcome
from registration.records import worker_from
from registration.registrant_status import status_commands

# KEYS: phone_index, attempts, lock. ARGV: last6, max_attempts, lockout_seconds.
VERIFY_LUA = """
local ttl = redis.call('PTTL', KEYS[3])
if ttl > 0 or ttl == -1 then return {'locked', ttl} end
local niks = redis.call('SMEMBERS', KEYS[1])
if #niks == 0 then return {'not_listed', 0} end
local last6 = ARGV[1]
if string.len(last6) ~= 6 or string.find(last6, '%D') then
  return {'wrong', tonumber(redis.call('GET', KEYS[2]) or '0')}
end
local found = false
for _, nik in ipairs(niks) do
  if string.sub(nik, -6) == last6 and (not found or nik < found) then found = nik end
end
if found then
  redis.call('DEL', KEYS[2])
  return {'ok', found}
end
local n = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if n >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[3], '1', 'EX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return {'locked', tonumber(ARGV[3]) * 1000}
end
return {'wrong', n}
"""


class Verifier:
    def __init__(
        self,
        redis: aioredis.Redis,
        fast: FastRedis,
        keys: RegistryKeys,
        max_attempts: int,
        lockout_seconds: int,
    ) -> None:
        self._fast, self._keys = fast, keys
        self._max, self._lockout = max_attempts, lockout_seconds
        self._script = redis.register_script(VERIFY_LUA)  # a definition only: sha, body
        fast.register(self._script)

    async def verify(self, phone: str, last6: str) -> tuple[Verification, list[Any] | None]:
        """The verification, and on OK the registrant's four status hashes (one batch)."""
        normalised = normalise_phone(phone)
        if not normalised.ok:
            return Verification(VerifyOutcome.NOT_LISTED), None
        p = normalised.value
        digits = "".join(last6.split())
        kind, value = await self._fast.evalsha(
            self._script,
            (self._keys.phone_index(p), self._keys.nik_attempts(p), self._keys.nik_lock(p)),
            (digits, self._max, self._lockout),
        )
        if kind == "locked":
            seconds = max((int(value) + 999) // 1000, 1) if int(value) > 0 else self._lockout
            return Verification(VerifyOutcome.LOCKED, locked_seconds=seconds), None
        if kind == "not_listed":
            return Verification(VerifyOutcome.NOT_LISTED), None
        if kind == "wrong":
            left = max(self._max - int(value), 0)
            return Verification(VerifyOutcome.WRONG_DIGITS, attempts_left=left), None
        replies = await self._fast.execute_many(*status_commands(self._keys, value))
        worker = worker_from(as_dict(replies[0]))
        if worker is None:  # index left behind by an interrupted import: not listed
            return Verification(VerifyOutcome.NOT_LISTED), None
        return Verification(VerifyOutcome.OK, worker=worker, attempts_left=self._max), replies
