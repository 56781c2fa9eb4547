"""The dialogue engine: one hop in, one screen out, for USSD and two-way SMS alike.

A session is one JSON blob in Redis (screen, position, back stack, variables,
language, last hop and last reply). A hop costs one MGET (session, resume state,
language: one hash slot) and one write (a pipeline when the resume state changes
too); side effects go through the Registry. A retransmitted hop (same or older
hop number) gets the stored reply and does nothing again.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from core.config import Config
from core.outbox import Outbox
from core.privacy import mask_phone, redact
from core.redis_lean import FastRedis
from core.settings import redis_settings, service_settings
from dialogue import flow
from dialogue.actions import ACTIONS, Turn
from dialogue.gsm import to_gsm
from dialogue.keys import DialogueKeys
from dialogue.menus import MenuError, Menus, load_menus
from dialogue.model import Channel, Inbound, Outbound
from dialogue.render import View, fill, render_sms, render_ussd
from registration.settings import session_labels

log = logging.getLogger(__name__)

_CACHE_SECONDS = 60.0  # facility names change rarely; a minute of staleness is harmless
_SLOTS_CACHE_SECONDS = 1.0  # seat counts shown are at most a second old; book() is atomic


@dataclass(frozen=True)
class DialogueSettings:
    """`[dialogue]` as written in config.toml."""

    menus_file: str
    default_language: str
    max_list_items: int
    resend_interval_seconds: int
    help_email: str
    service_codes: tuple[str, ...]
    ussd_session_ttl_seconds: int
    resume_window_seconds: int
    sms_session_ttl_seconds: int


@dataclass
class EngineSettings:
    session_ttl_seconds: int = 300
    resume_window_seconds: int = 3600
    sms_session_ttl_seconds: int = 86400
    # A USSD screen when the edge gives no limit of its own (edges pass theirs per hop).
    max_screen_chars: int = 160
    service_codes: frozenset[str] = frozenset({"119"})
    default_language: str = "id"
    max_list_items: int = 60
    resend_interval_seconds: int = 600
    help_email: str = "vaksinasi@kemkes.go.id"
    public_base_url: str = "http://127.0.0.1:8080"
    video_url: str = ""
    utc_offset_hours: float = 7.0


def normalise_service_code(code: str) -> str:
    """'*119#', '119', ' *119*1# ' -> '119' (the base code; extensions are ignored)."""
    return code.strip().strip("*#").split("*", 1)[0]


def settings_from_config(config: Config) -> tuple[EngineSettings, DialogueSettings]:
    dialogue = config.load("dialogue", DialogueSettings)
    service = service_settings(config)
    settings = EngineSettings(
        session_ttl_seconds=dialogue.ussd_session_ttl_seconds,
        resume_window_seconds=dialogue.resume_window_seconds,
        sms_session_ttl_seconds=dialogue.sms_session_ttl_seconds,
        service_codes=frozenset(normalise_service_code(c) for c in dialogue.service_codes),
        default_language=dialogue.default_language,
        max_list_items=dialogue.max_list_items,
        resend_interval_seconds=dialogue.resend_interval_seconds,
        help_email=dialogue.help_email,
        public_base_url=service.public_base_url.rstrip("/"),
        video_url=service.video_url,
        utc_offset_hours=service.utc_offset_hours,
    )
    return settings, dialogue


class Engine:
    """One per process. `handle()` is the only entry point the channels need."""

    def __init__(
        self,
        menus: Menus,
        registry: Any,
        redis: aioredis.Redis,
        keys: DialogueKeys,
        settings: EngineSettings,
        session_labels: dict[str, str] | None = None,
        *,
        kv: FastRedis,
        outbox: Outbox,
        owns_kv: bool = True,
    ) -> None:
        self.menus, self.registry, self.redis, self.keys = menus, registry, redis, keys
        # The lean connection for session reads/writes (see core.redis_lean),
        # usually the Registry's own: one pipelined connection per process.
        self.kv, self._owns_kv = kv, owns_kv
        self.outbox = outbox
        self.settings = settings
        if "help" not in menus.screens:
            raise MenuError("screens.help is missing (the SMS fallback answer)")
        self.session_labels = session_labels or {}
        self.weekdays = {lang: menus.text("weekdays", lang).split(",") for lang in ("id", "en")}
        self.globals = {"help_email": settings.help_email, "video": settings.video_url}
        self._facility_names: dict[str, tuple[float, str]] = {}
        self._slots: dict[str, tuple[float, list]] = {}

    @classmethod
    def from_config(
        cls,
        config: Config,
        registry: Any,
        redis: aioredis.Redis,
        *,
        lean: FastRedis,
        outbox: Outbox,
    ) -> Engine:
        settings, menu_settings = settings_from_config(config)
        menus = load_menus(config.resolve_path(menu_settings.menus_file), ACTIONS)
        labels = session_labels(config)
        keys = DialogueKeys(redis_settings(config).key_prefix)
        return cls(
            menus, registry, redis, keys, settings, labels, kv=lean, outbox=outbox, owns_kv=False
        )

    async def aclose(self) -> None:
        if self._owns_kv:
            await self.kv.aclose()

    # --- cached look-ups used by actions ---------------------------------------------------

    async def facility_name(self, facility_id: str) -> str:
        now = time.monotonic()
        hit = self._facility_names.get(facility_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        facility = await self.registry.facility(facility_id)
        name = to_gsm(facility.name)[:40] if facility is not None else facility_id
        self._facility_names[facility_id] = (now + _CACHE_SECONDS, name)
        return name

    async def slots(self, facility_id: str) -> list:
        now = time.monotonic()
        hit = self._slots.get(facility_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        slots = await self.registry.available_slots(facility_id)
        self._slots[facility_id] = (now + _SLOTS_CACHE_SECONDS, slots)
        return slots

    def forget_slots(self, facility_id: str) -> None:
        self._slots.pop(facility_id, None)

    def ticket_text(self, values: dict[str, Any], lang: str) -> str:
        """The ticket SMS from screen variables (code, facility, day_text, session)."""
        code = values.get("code", "")
        return to_gsm(
            fill(
                self.menus.text("ticket_sms", lang),
                {
                    "code": code,
                    "facility": values.get("facility", ""),
                    "day": values.get("day_text", values.get("day", "")),
                    "session": values.get("session", ""),
                    "link": self.ticket_link(code),
                    "video": self.settings.video_url,
                },
            )
        )

    def ticket_link(self, code: str) -> str:
        """The public address of a ticket's QR image (sent by SMS, never shown on USSD)."""
        return f"{self.settings.public_base_url}/tickets/{code}.png"

    async def ticket_sms_text(self, ticket: Any, lang: str = "id") -> str:
        """For the SMS channel: the ticket SMS for a Ticket (e.g. a `CEK` re-send)."""
        names = self.weekdays[lang]
        values = {
            "code": ticket.code,
            "facility": await self.facility_name(ticket.facility_id),
            "day_text": f"{names[ticket.day.weekday()]} {ticket.day:%d/%m}",
            "session": self.session_labels.get(ticket.session_id, ticket.session_id),
        }
        return self.ticket_text(values, lang)

    # --- the hop ---------------------------------------------------------------------------

    async def handle(self, inbound: Inbound, *, max_chars: int = 0) -> Outbound:
        """Answer one hop (USSD) or one message (SMS). Never raises for bad input."""
        limit = max_chars or self.settings.max_screen_chars
        try:
            if inbound.channel is Channel.SMS:
                return await flow.handle_sms(self, inbound)
            return await flow.handle_ussd(self, inbound, limit)
        except Exception as exc:
            # The traceback is redacted too: an exception message may carry a NIK or phone.
            trace = redact("".join(traceback.format_exception(exc)))
            log.error(
                "hop failed for %s (%s): %s", mask_phone(inbound.msisdn), inbound.dialect, trace
            )
            lang = self.settings.default_language
            return Outbound(self.menus.text("busy", lang), end=True)

    def service_known(self, service_code: str) -> bool:
        return normalise_service_code(service_code) in self.settings.service_codes

    def plain(self, key: str, lang: str) -> Outbound:
        """An END screen from a shared text (expired, unknown service code...)."""
        return Outbound(to_gsm(fill(self.menus.text(key, lang), self.globals)), end=True)

    def render(self, view: View, lang: str, channel: Channel, limit: int) -> str:
        if channel is Channel.SMS:
            return render_sms(view, self.menus, lang)
        return render_ussd(view, self.menus, lang, limit)

    def new_turn(self, sess: dict[str, Any], inbound: Inbound, resume: Any) -> Turn:
        return Turn(self, sess, inbound.msisdn, inbound.channel.value, resume)
