"""The WhatsApp channel in the server: the webhook (every worker) and the background half.

The app shell builds both with :func:`build` when ``[whatsapp] enabled``: the
:class:`~whatsapp.routes.Webhook` goes on every worker's routes; the
:class:`WhatsAppService` (inbox consumer, sender, one Graph API session) runs in
the one worker that runs background jobs, started and stopped with the app.
Secrets are read here, so a missing one stops the start with its name.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.asyncio as aioredis

from core.aio import cancel_until_done
from core.config import Config
from core.redis_client import lean_like
from core.redis_lean import FastRedis
from core.settings import redis_settings
from dialogue.menus import Menus
from dialogue.model import Dialogue
from whatsapp.conversation import Conversation
from whatsapp.graph import GraphClient
from whatsapp.inbox import InboxConsumer
from whatsapp.keys import WhatsAppKeys
from whatsapp.queue import PhoneState
from whatsapp.routes import Webhook
from whatsapp.sender import Sender
from whatsapp.settings import WhatsAppSecrets, WhatsAppSettings, whatsapp_secrets
from whatsapp.settings import whatsapp_settings as read_settings
from whatsapp.webhook import Event, MessageEvent

log = logging.getLogger(__name__)


class WhatsAppService:
    def __init__(
        self,
        settings: WhatsAppSettings,
        secrets: WhatsAppSecrets,
        lean: FastRedis,
        redis: aioredis.Redis,
        keys: WhatsAppKeys,
        engine: Dialogue,
        menus: Menus,
    ) -> None:
        self.settings = settings
        self.state = PhoneState(lean, keys)
        self.graph = GraphClient(
            settings.graph_base_url, settings.phone_number_id, secrets.access_token,
            settings.request_timeout_seconds,
        )  # fmt: skip
        self.sender = Sender(self.state, self.graph, settings)
        self.conversation = Conversation(engine, menus, self.state, settings, self.sender.wake)
        # Blocking reads get a connection of their own, opened on first use.
        self.reader = lean_like(redis)
        self.consumer = InboxConsumer(self.reader, keys, self.event)
        self._tasks: list[asyncio.Task[Any]] = []

    async def event(self, event: Event) -> None:
        if isinstance(event, MessageEvent):
            await self.conversation.message(event)
        else:
            await self.conversation.status(event)

    async def start(self) -> None:
        await self.graph.start()
        self._tasks = [
            asyncio.create_task(self.consumer.run()),
            asyncio.create_task(self.sender.run()),
        ]
        log.info("WhatsApp channel started (Graph API %s)", self.settings.graph_base_url)

    async def stop(self) -> None:
        """Finish the inbox batch in hand and the sends in flight; the rest waits in Redis."""
        self.consumer.stop()
        if self._tasks:
            consumer, sender = self._tasks
            await asyncio.wait([consumer], timeout=15)  # its blocking read ends within 1 s
            await self.sender.stop()
            await asyncio.wait([sender], timeout=5)
        await cancel_until_done(*self._tasks)
        await self.graph.close()
        await self.reader.aclose()
        log.info("WhatsApp channel stopped")


def build(
    config: Config, *, lean: FastRedis, redis: aioredis.Redis, engine: Dialogue, menus: Menus
) -> tuple[Webhook, WhatsAppService]:
    """The webhook and the background service, settings and secrets checked now."""
    settings, secrets = read_settings(config), whatsapp_secrets(config)
    keys = WhatsAppKeys(redis_settings(config).key_prefix)
    webhook = Webhook(settings, secrets, lean, keys)
    return webhook, WhatsAppService(settings, secrets, lean, redis, keys, engine, menus)
