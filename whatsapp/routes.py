"""``GET`` and ``POST /whatsapp/webhook``: Meta's verification handshake and notifications.

POST checks ``X-Hub-Signature-256`` against the raw body in constant time before
anything is parsed (401 otherwise), parses the notification (400 with the
reason when it is not one), puts its events into the inbox stream and answers
200: the answering happens after, in the inbox consumer. A Redis failure is a
503, which Meta retries.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web
from redis.exceptions import RedisError

from core.httpjson import json_error
from core.redis_lean import FastRedis
from core.secret_compare import same_secret
from whatsapp import inbox
from whatsapp.keys import WhatsAppKeys
from whatsapp.settings import WhatsAppSecrets, WhatsAppSettings
from whatsapp.webhook import SIGNATURE_HEADER, BadNotification, parse_notification, signature_ok

log = logging.getLogger(__name__)

PATH = "/whatsapp/webhook"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _too_large(limit: int, size: int) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(
        max_size=limit, actual_size=size, content_type="application/json",
        text=orjson.dumps({"error": f"body is over {limit} bytes"}).decode(),
    )  # fmt: skip


async def _body(request: web.Request, limit: int) -> bytes:
    """The raw body (the signature is over these bytes), refused past `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit, request.content_length)
    body = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        body += chunk
        if len(body) > limit:
            raise _too_large(limit, len(body))
    return bytes(body)


class Webhook:
    def __init__(
        self,
        settings: WhatsAppSettings,
        secrets: WhatsAppSecrets,
        lean: FastRedis,
        keys: WhatsAppKeys,
    ) -> None:
        self.settings, self.secrets, self.lean, self.keys = settings, secrets, lean, keys

    async def verify(self, request: web.Request) -> web.Response:
        """Meta's subscription check: echo hub.challenge when hub.verify_token is ours."""
        query = request.query
        token, ours = query.get("hub.verify_token", ""), self.secrets.verify_token
        if query.get("hub.mode") != "subscribe" or not same_secret(token, ours):
            log.warning("WhatsApp webhook verification refused (wrong mode or token)")
            raise json_error(web.HTTPForbidden, "wrong hub.mode or hub.verify_token")
        return web.Response(text=query.get("hub.challenge", ""), content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        body = await _body(request, self.settings.max_body_bytes)
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not signature_ok(self.secrets.app_secret, body, header):
            log.warning("WhatsApp webhook with a missing or wrong signature refused")
            raise json_error(web.HTTPUnauthorized, f"missing or wrong {SIGNATURE_HEADER}")
        try:
            events, skipped = parse_notification(body, self.settings.phone_number_id)
        except BadNotification as exc:
            raise json_error(web.HTTPBadRequest, str(exc)) from None
        if skipped:
            log.info("WhatsApp notification: %d entries skipped (other number, malformed)", skipped)
        try:
            await inbox.put(self.lean, self.keys, events)
        except (RedisError, OSError) as exc:
            log.warning("WhatsApp notification not accepted, Redis unavailable: %s", exc)
            raise json_error(web.HTTPServiceUnavailable, "try again later") from None
        return web.json_response({"accepted": len(events)})


def add_routes(app: web.Application, webhook: Webhook) -> list[str]:
    app.router.add_get(PATH, webhook.verify)
    app.router.add_post(PATH, webhook.receive)
    return [PATH]
