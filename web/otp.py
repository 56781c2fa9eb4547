"""One-time codes: a phone number typed on a web form proves nothing until its SMS code comes back.

A code is 6 digits, sent by SMS through the outbox (the SMS channel sends it),
valid ``[web] code_ttl_seconds`` and void after ``code_max_tries`` wrong entries.
Sending is limited per phone (``codes_per_phone`` per ``phone_window_seconds``)
and per client address (``codes_per_client`` per ``client_window_seconds``).
Redis keeps an HMAC of the code, never the code; neither the code nor the phone
is ever logged in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from core.outbox import OutboundSms
from core.privacy import mask_phone
from core.redis_lean import FastRedis, Script
from web.keys import WebKeys
from web.settings import WebSettings

log = logging.getLogger(__name__)

CODE_DIGITS = 6
# A phone form sent twice (a double click, a reload of the POST) within this many
# seconds gets the code already on its way, not a second one that voids the first:
# SMS can arrive out of order, and each send counts against the phone's limit.
RESUBMIT_SECONDS = 10

# KEYS: code, sends. ARGV: mac, code ttl, max sends, window, seconds a code stands.
# -> {1, sends} stored; {0, seconds until the window ends} over the phone's limit;
# {2, 0} the phone's code was issued under ARGV[5] seconds ago: it stands, nothing sent.
ISSUE = Script("""
local left = redis.call('TTL', KEYS[1])
if left > 0 and tonumber(ARGV[2]) - left < tonumber(ARGV[5]) then return {2, 0} end
local sent = redis.call('INCR', KEYS[2])
if sent == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
if sent > tonumber(ARGV[3]) then
  local ttl = redis.call('TTL', KEYS[2])
  if ttl < 0 then redis.call('EXPIRE', KEYS[2], ARGV[4]) ttl = tonumber(ARGV[4]) end
  return {0, ttl}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'mac', ARGV[1], 'wrong', 0)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {1, sent}
""")

# KEYS: code. ARGV: mac, max tries. -> {"ok"|"wrong"|"none", tries left}
CHECK = Script("""
local mac = redis.call('HGET', KEYS[1], 'mac')
if not mac then return {'none', 0} end
if mac == ARGV[1] then redis.call('DEL', KEYS[1]) return {'ok', 0} end
local left = tonumber(ARGV[2]) - redis.call('HINCRBY', KEYS[1], 'wrong', 1)
if left <= 0 then redis.call('DEL', KEYS[1]) return {'wrong', 0} end
return {'wrong', left}
""")


class Sent(StrEnum):
    SENT = "sent"
    PHONE_LIMITED = "phone_limited"  # too many codes to this phone: wait `retry_seconds`
    CLIENT_LIMITED = "client_limited"  # too many codes asked for from this address


class Checked(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # `tries_left` more
    USED_UP = "used_up"  # the last try was wrong: the code is void
    NONE = "none"  # no code (never sent, expired, or used)


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Sent
    retry_seconds: int = 0


@dataclass(frozen=True, slots=True)
class CheckResult:
    outcome: Checked
    tries_left: int = 0


class Outbox(Protocol):
    async def enqueue(self, sms: OutboundSms) -> bool: ...


class OneTimeCodes:
    """Issues and checks codes over the process's lean Redis connection."""

    def __init__(
        self,
        kv: FastRedis,
        keys: WebKeys,
        outbox: Outbox,
        settings: WebSettings,
        secret: str,
        sms_text: Callable[[str, str], str],  # (code, lang) -> the SMS
    ) -> None:
        self._kv, self._keys, self._outbox, self._settings = kv, keys, outbox, settings
        self._key = hashlib.sha256(("one-time-code:" + secret).encode()).digest()
        self._sms_text = sms_text
        kv.register(ISSUE, CHECK)

    def _mac(self, phone: str, code: str) -> str:
        return hmac.new(self._key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    async def _client_limited(self, address: str) -> int:
        """Counts this request; the seconds to wait when the address is over its limit."""
        key, window = self._keys.web_client_sends(address), self._settings.client_window_seconds
        sent, _, ttl = await self._kv.execute_many(
            ("INCR", key), ("EXPIRE", key, window, "NX"), ("TTL", key)
        )
        return max(int(ttl), 1) if int(sent) > self._settings.codes_per_client else 0

    async def send(self, phone: str, address: str, lang: str, *, stands: int = 0) -> SendResult:
        """A new code for `phone` (the previous one is void), queued as an SMS; unless
        the phone's code was issued under `stands` seconds ago: that one stays."""
        wait = await self._client_limited(address)
        if wait:
            log.warning("one-time codes refused: client address over its limit")
            return SendResult(Sent.CLIENT_LIMITED, wait)
        settings = self._settings
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        keys = (self._keys.web_code(phone), self._keys.web_code_sends(phone))
        args = (
            self._mac(phone, code),
            settings.code_ttl_seconds,
            settings.codes_per_phone,
            settings.phone_window_seconds,
            stands,
        )
        stored, count = await self._kv.evalsha(ISSUE, keys, args)
        if stored == 2:
            log.info(
                "one-time code for %s asked again at once: the one sent stands", mask_phone(phone)
            )
            return SendResult(Sent.SENT)
        if not stored:
            log.info("one-time code for %s refused: phone over its limit", mask_phone(phone))
            return SendResult(Sent.PHONE_LIMITED, max(int(count), 1))
        sms = OutboundSms(phone, self._sms_text(code, lang), "otp", "otp:" + secrets.token_hex(8))
        await self._outbox.enqueue(sms)
        log.info("one-time code %d sent to %s", count, mask_phone(phone))
        return SendResult(Sent.SENT)

    async def check(self, phone: str, code: str) -> CheckResult:
        """Whether `code` is the phone's current code; a wrong one uses up a try."""
        keys = (self._keys.web_code(phone),)
        args = (self._mac(phone, code), self._settings.code_max_tries)
        status, left = await self._kv.evalsha(CHECK, keys, args)
        if status == "ok":
            return CheckResult(Checked.OK)
        if status == "none":
            return CheckResult(Checked.NONE)
        if int(left) <= 0:
            log.info("one-time code for %s void after wrong tries", mask_phone(phone))
            return CheckResult(Checked.USED_UP)
        return CheckResult(Checked.WRONG, int(left))
