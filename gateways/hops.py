"""What a gateway endpoint does with one request, whichever HTTP server carried it.

Check authentication and content type, let the dialect parse, ask the dialogue,
let the dialect format the reply; count it. Every malformed request gets 400 with
the reason in the dialect's own format: nothing a gateway sends can take the
server down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from types import ModuleType

import redis.asyncio as aioredis

from core import metrics
from core.logs import log_context, new_request_id
from core.privacy import mask_phone
from dialogue.model import Dialogue
from gateways.auth import Guard
from gateways.dialects import africastalking
from gateways.exchange import GatewayRequest, Reply, text_reply
from gateways.keys import GatewayKeys
from gateways.parsing import BadRequest

log = logging.getLogger(__name__)

HopHandler = Callable[[GatewayRequest], Awaitable[Reply]]


def refusal(dialect: ModuleType, guard: Guard, request: GatewayRequest) -> Reply | None:
    """The dialect's own 401/403/400 when the request may not go further."""
    if guard.active:
        refused = guard.check(request.remote, request.headers)
        if refused is not None:
            log.warning("%s request refused: %s", dialect.NAME, refused[1])
            return dialect.error(*refused)  # type: ignore[no-any-return]
    if request.content_type not in dialect.CONTENT_TYPES:
        wanted = " or ".join(sorted(dialect.CONTENT_TYPES))
        reason = f"content type must be {wanted}, not {request.content_type or 'none'}"
        return dialect.error(400, reason)  # type: ignore[no-any-return]
    return None


def hop_handler(engine: Dialogue, dialect: ModuleType, guard: Guard, limit: int) -> HopHandler:
    """``POST /ussd/<dialect>``: one hop of a USSD session."""
    meter = metrics.UssdHopMeter(dialect.NAME)
    channel = f"ussd/{dialect.NAME}"

    async def handle(request: GatewayRequest) -> Reply:
        started = time.perf_counter()
        refused = refusal(dialect, guard, request)
        if refused is not None:
            meter.count("refused" if refused.status in (401, 403) else "bad_request")
            return refused
        try:
            inbound = dialect.parse(request.body)
        except BadRequest as exc:
            meter.count("bad_request")
            return dialect.error(400, str(exc))  # type: ignore[no-any-return]
        request_id = request.headers.get("x-request-id", "")[:64] or new_request_id()
        with log_context(request_id=request_id, channel=channel, msisdn=inbound.msisdn):
            out = await engine.handle(inbound, max_chars=limit)
        meter.answered(out.outcome, out.screen, time.perf_counter() - started)
        return dialect.reply(inbound, out)  # type: ignore[no-any-return]

    return handle


def events_handler(
    engine: Dialogue, redis: aioredis.Redis, keys: GatewayKeys, guard: Guard
) -> HopHandler:
    """Africa's Talking end-of-session notification: count the outcome, close the session."""

    async def events(request: GatewayRequest) -> Reply:
        refused = refusal(africastalking, guard, request)
        if refused is not None:
            return refused
        try:
            inbound, status = africastalking.parse_event(request.body)
        except BadRequest as exc:
            return africastalking.error(400, str(exc))
        await redis.hincrby(keys.ussd_outcomes(), f"africastalking:{status}", 1)
        await engine.handle(inbound)
        log.info("session of %s ended: %s", mask_phone(inbound.msisdn), status)
        return text_reply("OK")

    return events
