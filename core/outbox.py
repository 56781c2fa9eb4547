"""SMS waiting to be sent by the SMS channel (ticket SMS, replies, one-time codes...).

CONTRACT: producers (the dialogue, the domain, the web channel) call
:meth:`Outbox.enqueue` or :meth:`Outbox.enqueue_nowait`; the SMS channel consumes
the stream ``OutboxKeys.sms_outbox()`` with a consumer group and acknowledges
after the SMSC accepted the message. Nothing is lost while SMS is not connected:
the stream simply grows. ``dedupe_key`` makes a retransmitted hop queue once.

Queueing is one script (one round trip): set the dedupe marker if absent, then
add to the stream. The marker's key carries the stream's slot as its hash tag
(``OutboxKeys.sms_outbox_marker``), so the script stays in one Redis Cluster slot.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.keys import OutboxKeys
from core.redis_lean import FastRedis
from core.redis_wire import Script

# How long a dedupe marker lives: longer than any retransmission or resend window.
DEDUPE_TTL_SECONDS = 7 * 24 * 3600

# KEYS: marker, stream. ARGV: marker ttl, then the entry's field/value pairs.
# -> 1 queued, 0 queued before (marker present).
ENQUEUE_LUA = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
return 1
"""
ENQUEUE_SCRIPT = Script(ENQUEUE_LUA)


@dataclass(frozen=True, slots=True)
class OutboundSms:
    to: str  # normalised 62...
    text: str
    kind: str  # "ticket", "ticket_resend", "reply", ...
    dedupe_key: str  # same key = same message, queued once


class Outbox:
    """Queues SMS for the SMS channel over the process's lean Redis connection."""

    def __init__(self, lean: FastRedis, keys: OutboxKeys) -> None:
        self._lean, self._keys = lean, keys
        lean.register(ENQUEUE_SCRIPT)

    def _keys_and_args(self, sms: OutboundSms) -> tuple[tuple[str, str], tuple[object, ...]]:
        entry = ("to", sms.to, "text", sms.text, "kind", sms.kind, "dedupe_key", sms.dedupe_key)
        markers = (self._keys.sms_outbox_marker(sms.dedupe_key), self._keys.sms_outbox())
        return markers, (DEDUPE_TTL_SECONDS, *entry)

    async def enqueue(self, sms: OutboundSms) -> bool:
        """Queue ``sms`` once per ``dedupe_key``; False if it was queued before."""
        script_keys, args = self._keys_and_args(sms)
        return bool(await self._lean.evalsha(ENQUEUE_SCRIPT, script_keys, args))

    async def enqueue_nowait(self, sms: OutboundSms) -> None:
        """Queue ``sms`` once per ``dedupe_key`` without waiting for Redis to answer.

        For a USSD hop that writes its session next on the same connection: that write
        runs after this one and is waited for, so when the hop answers the SMS is queued
        (or the hop failed and says "busy"; a retry queues it then). EVAL with the body,
        not EVALSHA: a NOSCRIPT nobody waits for would lose the SMS. Errors are logged.
        """
        script_keys, args = self._keys_and_args(sms)
        await self._lean.send_nowait(("EVAL", ENQUEUE_LUA, 2, *script_keys, *args))
