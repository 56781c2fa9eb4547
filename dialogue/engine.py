"""The dialogue engine: one hop in, one screen out, for USSD, two-way SMS and WhatsApp alike.

A session is one small blob in the session store (screen, position, back stack,
variables, language, last hop and last reply; see ``dialogue.session``). A hop
costs one read (session, resume snapshot, language) and one write; side effects
go through the Registry. A retransmitted hop (same or older hop number) gets
the stored reply and does nothing again. The channel's layout (``dialogue.model.
Layout``) decides how a screen looks and how lists are paged; every answer
also carries the screen as data (``Outbound.view``).
"""

from __future__ import annotations

import logging
import time
import traceback

from core import metrics
from core.config import Config
from core.privacy import mask_phone, redact
from core.redis_outage import FAILURES, OutageLog
from dialogue import flow
from dialogue.actions import ACTIONS
from dialogue.context import DialogueContext
from dialogue.lookups import Lookups
from dialogue.menus import MenuError, Menus, load_menus
from dialogue.model import MESSAGE_CHANNELS, Channel, Inbound, Layout, Outbound, View, ViewKind
from dialogue.ports import Clock, Registry, SmsOutbox
from dialogue.render import SmsLayout, UssdLayout
from dialogue.session import SessionStore
from dialogue.settings import EngineSettings, settings_from_config
from registration.models import Ticket

log = logging.getLogger(__name__)

# A hop Redis failed, in the log: counted per second and channel (core.redis_outage),
# not a traceback each: during an outage every hop fails the same way.
_OUTAGE_WORDS = {channel.value: f"{channel.value} hops failed" for channel in Channel}
_OUTAGE_OUTCOME = 'answered "busy"'


def _count_redis_error(channel: str) -> None:
    metrics.REDIS_ERRORS.labels("lean").inc()


class Engine:
    """One per process. `handle()` is the only entry point the channels need."""

    def __init__(
        self,
        menus: Menus,
        registry: Registry,
        store: SessionStore,
        outbox: SmsOutbox,
        settings: EngineSettings,
        *,
        clock: Clock = time.time,
    ) -> None:
        if "help" not in menus.screens:
            raise MenuError("screens.help is missing (the SMS fallback answer)")
        lookups = Lookups(registry, menus, settings)
        self.context = DialogueContext(registry, outbox, menus, settings, store, clock, lookups)
        self._sms_layout = SmsLayout(menus)
        self._ussd_layouts: dict[int, UssdLayout] = {}
        self._outage = OutageLog(_OUTAGE_WORDS, _OUTAGE_OUTCOME, _count_redis_error)

    @classmethod
    def from_config(
        cls,
        config: Config,
        registry: Registry,
        store: SessionStore,
        *,
        outbox: SmsOutbox,
        clock: Clock = time.time,
    ) -> Engine:
        settings, dialogue = settings_from_config(config)
        menus = load_menus(config.resolve_path(dialogue.menus_file), ACTIONS)
        return cls(menus, registry, store, outbox, settings, clock=clock)

    @property
    def menus(self) -> Menus:
        return self.context.menus

    def layout(self, channel: Channel, max_chars: int = 0) -> Layout:
        """The layout of our own channels: USSD within `max_chars` septets, or SMS.

        A message channel without a layout of its own (WhatsApp passes one) gets SMS's.
        """
        if channel in MESSAGE_CHANNELS:
            return self._sms_layout
        limit = max_chars or self.context.settings.max_screen_chars
        layout = self._ussd_layouts.get(limit)
        if layout is None:
            layout = self._ussd_layouts[limit] = UssdLayout(self.context.menus, limit)
        return layout

    async def ticket_sms_text(self, ticket: Ticket, lang: str = "id") -> str:
        """For a channel: the ticket SMS for a Ticket (e.g. a re-send outside a dialogue)."""
        return await self.context.lookups.ticket_sms_text(ticket, lang)

    async def handle(
        self, inbound: Inbound, *, max_chars: int = 0, layout: Layout | None = None
    ) -> Outbound:
        """Answer one hop (USSD) or one message (SMS). Never raises for bad input.

        `max_chars`: the USSD gateway's screen limit; `layout`: a channel's own
        (WhatsApp, web), else the USSD or SMS layout.
        """
        chosen = layout or self.layout(inbound.channel, max_chars)
        try:
            if inbound.channel in MESSAGE_CHANNELS:
                return await flow.sms_message(self.context, inbound, chosen)
            return await flow.ussd_hop(self.context, inbound, chosen)
        except FAILURES as exc:  # Redis: the same for every hop of an outage
            self._outage.count(inbound.channel.value, exc)
            return self._busy()
        except Exception as exc:  # a bug: in full, once per hop
            # The traceback is redacted too: an exception message may carry a NIK or phone.
            trace = redact("".join(traceback.format_exception(exc)))
            log.error(
                "hop failed for %s (%s): %s", mask_phone(inbound.msisdn), inbound.dialect, trace
            )
            return self._busy()

    def _busy(self) -> Outbound:
        lang = self.context.settings.default_language
        text = self.context.menus.text("busy", lang)
        return Outbound(text, end=True, view=View(ViewKind.END, "", lang, text), busy=True)
