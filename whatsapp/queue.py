"""The phone-side state in Redis: answered message ids, the send queue, window, statuses.

Every script touches one phone's keys only (hash tag ``{wa:<phone>}``, see
:mod:`whatsapp.keys`). The due index (which phones have something to send, and
when) is one sorted set written by plain commands beside the scripts:

- answering: the reply's messages are pushed and the phone is added to the index
  in one write (script, then ``ZADD NX``);
- draining: the sender removes the phone from the index and then looks at its
  queue again, re-adding it when something arrived meanwhile, so nothing queued
  is ever left out of the index.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from core.redis_lean import Call, FastRedis, Script
from whatsapp.keys import WhatsAppKeys
from whatsapp.render import Message

# KEYS: seen, last-in, choices. ARGV: dedupe ttl, sent at, window ttl.
# -> nil when the message was answered before, else {previous claim, choices}.
CLAIM = Script("""
local seen = redis.call('GET', KEYS[1])
if seen == 'done' then return false end
redis.call('SET', KEYS[1], 'pending', 'EX', ARGV[1])
if tonumber(ARGV[2]) > tonumber(redis.call('GET', KEYS[2]) or '0') then
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
end
return {seen or '', redis.call('GET', KEYS[3]) or ''}
""")

# KEYS: seen, queue, choices, help guard, last-in. ARGV: dedupe ttl, choices ("{..}" set,
# "del", "keep"), choices ttl, help ttl ("0" = not a help reply), entries...
# -> {1, the queue's head, last-in} queued, {0} answered before, {2} a help reply
# suppressed (anti-loop). The head lets the sender start without reading it again.
ANSWER = Script("""
if redis.call('GET', KEYS[1]) == 'done' then return {0} end
redis.call('SET', KEYS[1], 'done', 'EX', ARGV[1])
if ARGV[4] ~= '0' and not redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[4]) then
  return {2}
end
for i = 5, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
if string.sub(ARGV[2], 1, 1) == '{' then
  redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3])
elseif ARGV[2] == 'del' then
  redis.call('DEL', KEYS[3])
end
return {1, redis.call('LINDEX', KEYS[2], 0), redis.call('GET', KEYS[5]) or '0'}
""")

# KEYS: queue, statuses, last-in. ARGV: the head as read, Graph message id, status ttl.
# -> {the next head or false, last-in}: the drain goes on without another read.
SENT = Script("""
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  if ARGV[2] ~= '' then
    redis.call('HSET', KEYS[2], ARGV[2], 'accepted')
    redis.call('EXPIRE', KEYS[2], ARGV[3])
  end
end
return {redis.call('LINDEX', KEYS[1], 0), redis.call('GET', KEYS[3]) or '0'}
""")

# KEYS: queue, last-in. ARGV: now, window, template entry ("" = none).
# -> the entries given up on (empty when the window is open after all).
WINDOW_CLOSED = Script("""
if tonumber(ARGV[1]) - tonumber(redis.call('GET', KEYS[2]) or '0') <= tonumber(ARGV[2]) then
  return {}
end
local old = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[1], ARGV[3]) end
return old
""")

# KEYS: statuses. ARGV: Graph message id, status, ttl. -> 1 when the status moved on.
STATUS = Script("""
local rank = {accepted = 0, sent = 1, delivered = 2, read = 3}
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and string.sub(old, 1, 6) == 'failed' then return 0 end
if old and string.sub(ARGV[2], 1, 6) ~= 'failed' and (rank[old] or 0) >= (rank[ARGV[2]] or 0) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
""")

SCRIPTS = (CLAIM, ANSWER, SENT, WINDOW_CLOSED, STATUS)


# The oldest queued message as stored (None: the queue is empty), and when the phone
# last wrote to us (epoch seconds).
Head = tuple[str | None, int]


def entry(entry_id: str, message: Message) -> str:
    """One queued message as stored: its id (webhook message id and position), its body
    and when it was queued (ms)."""
    return orjson.dumps({"id": entry_id, "m": message, "t": now_ms()}).decode()


def now_ms() -> int:
    return int(time.time() * 1000)


class PhoneState:
    """The per-phone scripts and the due index, over the process's lean connection."""

    def __init__(self, lean: FastRedis, keys: WhatsAppKeys) -> None:
        self.lean, self.keys = lean, keys
        lean.register(*SCRIPTS)

    async def claim(
        self, phone: str, message_id: str, sent_at: int, ttl: int, window: int
    ) -> tuple[str, str] | None:
        """(previous claim, choices JSON) when this message is to be answered; None: done."""
        k = self.keys
        script_keys = (k.wa_seen(phone, message_id), k.wa_last_inbound(phone), k.wa_choices(phone))
        reply = await self.lean.evalsha(CLAIM, script_keys, (ttl, sent_at, window * 2))
        return None if reply is None else (reply[0], reply[1])

    async def answer(
        self, phone: str, message_id: str, entries: list[str], choices: str, ttls: tuple[int, ...]
    ) -> tuple[int, Head | None]:
        """Queue a reply's messages once per webhook message id: ANSWER's outcome, and the
        queue's head (as `head` gives it) when queued."""
        k = self.keys
        dedupe, window, help_interval = ttls
        script_keys = (k.wa_seen(phone, message_id), k.wa_queue(phone), k.wa_choices(phone),
                       k.wa_help_guard(phone), k.wa_last_inbound(phone))  # fmt: skip
        call = Call(ANSWER, script_keys, (dedupe, choices, window, help_interval, *entries))
        reply, *_ = await self.lean.batch(
            [
                call,
                ("ZADD", k.wa_due(), "NX", now_ms(), phone),
                ("HINCRBY", k.wa_stats(), "received", 1),
            ]
        )
        if reply[0] != 1:
            return int(reply[0]), None
        return 1, (reply[1], int(reply[2]))

    async def head(self, phone: str) -> Head:
        """The oldest queued message (as stored) and when the phone last wrote to us."""
        raw, last = await self.lean.execute_many(
            ("LINDEX", self.keys.wa_queue(phone), 0), ("GET", self.keys.wa_last_inbound(phone))
        )
        return raw, int(last or 0)

    async def sent(self, phone: str, raw: str, graph_id: str, ttl: int, stat: str) -> Head:
        """Take the head off the queue (sent, or given up on); the next head, as `head`."""
        k = self.keys
        script_keys = (k.wa_queue(phone), k.wa_statuses(phone), k.wa_last_inbound(phone))
        call = Call(SENT, script_keys, (raw, graph_id, ttl))
        (head, last), _ = await self.lean.batch([call, ("HINCRBY", k.wa_stats(), stat, 1)])
        return head, int(last)

    async def window_closed(self, phone: str, window: int, template: str) -> list[str]:
        k = self.keys
        script_keys = (k.wa_queue(phone), k.wa_last_inbound(phone))
        args = (int(time.time()), window, template)
        return await self.lean.evalsha(WINDOW_CLOSED, script_keys, args)

    async def retry_at(self, phone: str, when_ms: int) -> None:
        await self.lean.execute("ZADD", self.keys.wa_due(), when_ms, phone)

    async def settle(self, phone: str) -> bool:
        """Take a drained phone out of the index; True when something arrived meanwhile.

        ZREM then LLEN, in that order on one connection: a message queued after the
        LLEN has its own ZADD after our ZREM, so the phone is never left out.
        """
        k = self.keys
        _, left = await self.lean.execute_many(
            ("ZREM", k.wa_due(), phone), ("LLEN", k.wa_queue(phone))
        )
        if int(left):
            await self.lean.execute("ZADD", k.wa_due(), now_ms(), phone)
            return True
        return False

    async def due(self, limit: int) -> tuple[list[str], float | None]:
        """Phones due now, and when the next one after them is due (epoch ms, None: none)."""
        now = now_ms()
        due_now, later = await self.lean.execute_many(
            ("ZRANGEBYSCORE", self.keys.wa_due(), "-inf", now, "LIMIT", 0, limit),
            ("ZRANGEBYSCORE", self.keys.wa_due(), f"({now}", "+inf", "WITHSCORES", "LIMIT", 0, 1),
        )
        return due_now, float(later[1]) if later else None

    async def status(self, phone: str, graph_id: str, status: str, ttl: int) -> bool:
        key = self.keys.wa_statuses(phone)
        return bool(await self.lean.evalsha(STATUS, (key,), (graph_id, status, ttl)))

    async def count(self, *stats: str) -> None:
        """Best-effort counters, not waited for."""
        await self.lean.send_nowait(*(("HINCRBY", self.keys.wa_stats(), s, 1) for s in stats))

    async def give_up(self, phone: str, raw: str, reason: str) -> None:
        """Record a message given up on (refused, window closed) in the failed stream."""
        fields: dict[str, Any] = {"phone": phone, "entry": raw, "reason": reason}
        flat = [item for pair in fields.items() for item in pair]
        await self.lean.execute("XADD", self.keys.wa_failed(), "MAXLEN", "~", 100000, "*", *flat)
