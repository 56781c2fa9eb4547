"""SMS waiting to be sent by the SMS channel (e.g. the ticket SMS after a USSD booking).

CONTRACT: the USSD dialogue calls :func:`enqueue`; the SMS channel consumes the
stream ``Keys.sms_outbox()`` with a consumer group and acknowledges after the
SMSC accepted the message. Nothing is lost while SMS is not connected: the
stream simply grows. ``dedupe_key`` makes a retransmitted hop queue once.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from registration.keys import Keys

# How long a dedupe marker lives: longer than any retransmission or resend window.
DEDUPE_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class OutboundSms:
    to: str  # normalised 62...
    text: str
    kind: str  # "ticket", "ticket_resend", ...
    dedupe_key: str  # same key = same message, queued once


async def enqueue(redis: aioredis.Redis, keys: Keys, sms: OutboundSms) -> bool:
    """Queue ``sms`` once per ``dedupe_key``; returns False if it was already queued."""
    marker = keys.sms_outbox_dedupe(sms.dedupe_key)
    if not await redis.set(marker, "1", nx=True, ex=DEDUPE_TTL_SECONDS):
        return False
    await redis.xadd(
        keys.sms_outbox(),
        {"to": sms.to, "text": sms.text, "kind": sms.kind, "dedupe_key": sms.dedupe_key},
    )
    return True
