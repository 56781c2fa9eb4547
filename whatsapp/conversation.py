"""One webhook message answered: claimed once, asked of the dialogue, its reply queued.

A message id is claimed first (``pending``), and marked ``done`` in the same script
that queues the reply: a notification Meta delivers twice, or one still in the
inbox when the server restarts, is answered once. A message claimed but never
marked (the process died in between) is answered when it comes again.

What the user did becomes an :class:`~dialogue.model.Inbound`: a button or list
reply gives its id as ``choice``; typed text that is one of the titles just
shown (a cut title too) counts as that choice, unless it is an SMS keyword;
anything else is ``text`` (a number, YA/TIDAK, an answer). Pictures, voice notes
and the like get a short "please reply with text" in both languages, at most once
per help interval (as the help text); a reaction gets nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import orjson

from core import metrics
from core.logs import log_context
from core.privacy import mask_phone
from dialogue.flow import keyword
from dialogue.menus import Menus
from dialogue.model import Channel, Dialogue, Inbound, SessionEvent
from whatsapp.queue import Head, PhoneState, entry
from whatsapp.render import Rendered, WhatsAppLayout, fold, render, text_message
from whatsapp.settings import WhatsAppSettings
from whatsapp.webhook import MessageEvent, StatusEvent

log = logging.getLogger(__name__)
DIALECT = "whatsapp"
LAYOUT = WhatsAppLayout()
KEEP, FORGET = "keep", "del"  # what the answer does to the titles a user may type


class Conversation:
    def __init__(
        self,
        engine: Dialogue,
        menus: Menus,
        state: PhoneState,
        settings: WhatsAppSettings,
        on_queued: Callable[[str, Head], None],
    ) -> None:
        self.engine, self.menus, self.state, self.settings = engine, menus, state, settings
        self.on_queued = on_queued
        lines = [menus.text("wa_text_only", lang) for lang in ("id", "en")]
        self.text_only = Rendered([text_message("\n".join(lines))])

    async def message(self, event: MessageEvent) -> None:
        """Answer one message from a phone, once per message id."""
        if event.kind == "reaction":  # a thumbs-up on the ticket asks nothing: no answer
            metrics.WHATSAPP_MESSAGES.labels("reaction").inc()
            return
        choices = await self._claim(event)
        if choices is None:
            outcome = "duplicate"
        else:
            with log_context(channel=DIALECT, msisdn=event.phone):
                rendered, fallback = await self._reply(event, choices)
            outcome = await self._queue(event, rendered, fallback)
        metrics.WHATSAPP_MESSAGES.labels(outcome).inc()

    async def _claim(self, event: MessageEvent) -> str | None:
        """The titles last shown (JSON, or ""), or None when the message was answered before."""
        s, now = self.settings, int(time.time())
        sent_at = min(event.timestamp or now, now)
        claim = await self.state.claim(
            event.phone, event.message_id, sent_at, s.dedupe_seconds, s.window_seconds
        )
        if claim is None:
            log.info("duplicate WhatsApp message from %s ignored", mask_phone(event.phone))
            await self.state.count("duplicates")
            return None
        before, choices = claim
        if before == "pending":
            log.info("message from %s answered again (an earlier attempt was interrupted)",
                     mask_phone(event.phone))  # fmt: skip
        return choices

    async def _queue(self, event: MessageEvent, rendered: Rendered, fallback: bool) -> str:
        """Queue the answer (and hand it to the sender); the outcome for the metrics."""
        s, phone = self.settings, event.phone
        choices = KEEP if rendered is self.text_only else FORGET
        if rendered.choices:
            choices = orjson.dumps(rendered.choices).decode()
        entries = [entry(f"{event.message_id}:{n}", m) for n, m in enumerate(rendered.messages)]
        help_interval = s.help_reply_interval_seconds if fallback else 0
        ttls = (s.dedupe_seconds, s.window_seconds, help_interval)
        result, head = await self.state.answer(phone, event.message_id, entries, choices, ttls)
        if head is not None:
            self.on_queued(phone, head)
            return "not_text" if rendered is self.text_only else "answered"
        if result == 2:
            log.info("help reply to %s suppressed (rate limit)", mask_phone(phone))
            await self.state.count("help_suppressed")
            return "help_suppressed"
        return "duplicate"

    async def _reply(self, event: MessageEvent, choices: str) -> tuple[Rendered, bool]:
        if event.kind not in ("text", "choice"):
            log.info("%s message from %s: asked for text", event.kind, mask_phone(event.phone))
            # Rate-limited as the help text: a bot sending media cannot make us loop.
            return self.text_only, True
        text, choice = event.text, event.choice
        if event.kind == "choice":
            text = ""
        elif choices and keyword(text) not in self.menus.keywords:
            typed = _typed_choice(choices, text)
            if typed:
                text, choice = "", typed
        inbound = Inbound(
            Channel.WHATSAPP, DIALECT, event.phone, event.phone, DIALECT,
            SessionEvent.CONTINUE, text, choice=choice,
        )  # fmt: skip
        out = await self.engine.handle(inbound, layout=LAYOUT)
        if out.view is None:
            return Rendered([text_message(out.text)] if out.text else []), out.fallback
        return render(out.view, self.menus), out.fallback

    async def status(self, event: StatusEvent) -> None:
        status = f"failed:{event.error}" if event.status == "failed" else event.status
        ttl = self.settings.status_retention_seconds
        if await self.state.status(event.phone, event.message_id, status, ttl):
            metrics.WHATSAPP_STATUSES.labels(event.status).inc()
            await self.state.count(f"status_{event.status}")
        if event.status == "failed":
            log.warning(
                "WhatsApp message to %s failed (code %s)", mask_phone(event.phone), event.error
            )


def _typed_choice(choices: str, text: str) -> str:
    try:
        table = orjson.loads(choices)
    except orjson.JSONDecodeError:
        return ""
    found = table.get(fold(text)) if isinstance(table, dict) else None
    return found if isinstance(found, str) else ""
