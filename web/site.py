"""The registration website put together: settings, texts, CSRF, sessions, codes, dialogue.

:func:`build_site` reads everything at start-up (a missing secret or a bad texts
file stops the start with its reason); ``web.routes`` serves the pages with it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from core import metrics
from core.config import Config
from core.peers import client_address, client_left
from core.privacy import redact
from core.redis_lean import FastRedis
from core.redis_outage import FAILURES, OutageLog
from core.settings import http_settings, redis_settings
from dialogue.model import Dialogue
from dialogue.settings import DialogueSettings
from web import kit, pages
from web.keys import WebKeys
from web.layout import WebLayout
from web.otp import OneTimeCodes, Outbox
from web.settings import WebSettings, web_settings
from web.state import StateStore, WebState, chosen_language, session_id
from web.texts import WebTexts, load_texts
from web.ticket import TicketCards, TicketSource

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Site:
    settings: WebSettings
    texts: WebTexts
    csrf: kit.Csrf
    states: StateStore
    codes: OneTimeCodes
    dialogue: Dialogue
    layout: WebLayout
    cards: TicketCards
    default_lang: str
    max_body: int  # largest form accepted ([http] max_body_bytes)
    address_header: str  # [http] client_address_header

    @property
    def code_minutes(self) -> int:
        return max(1, self.settings.code_ttl_seconds // 60)

    def client_address(self, request: web.Request) -> str:
        return client_address(request, self.address_header)

    def fresh(self, request: web.Request) -> WebState:
        """A session with nothing on the server yet, in the language the visitor chose."""
        return WebState(lang=chosen_language(request, self.default_lang))


SITE: web.AppKey[Site] = web.AppKey("web_site", Site)


def build_site(
    config: Config, *, dialogue: Dialogue, registry: TicketSource, outbox: Outbox, kv: FastRedis
) -> Site:
    """The site for one process, on its lean Redis connection and its dialogue engine."""
    settings = web_settings(config)
    secret = config.secret("web", "csrf_secret") or ""
    texts = load_texts(config.resolve_path(settings.texts_file))
    dialogue_settings = config.load("dialogue", DialogueSettings)
    keys = WebKeys(redis_settings(config).key_prefix)
    minutes = max(1, settings.code_ttl_seconds // 60)

    def sms_text(code: str, lang: str) -> str:
        return texts.otp_sms(code, lang, minutes)

    return Site(
        settings=settings,
        texts=texts,
        csrf=kit.Csrf(secret),
        states=StateStore(kv, keys, dialogue_settings.web_session_ttl_seconds),
        codes=OneTimeCodes(kv, keys, outbox, settings, secret, sms_text),
        dialogue=dialogue,
        layout=WebLayout(settings.list_page_size),
        cards=TicketCards(registry, texts),
        default_lang=dialogue_settings.default_language,
        max_body=http_settings(config).max_body_bytes,
        address_header=http_settings(config).client_address_header,
    )


# Pages Redis failed, in the log: one line per second with a count (core.redis_outage).
_OUTAGE = OutageLog(
    {"web": "web requests failed"},
    'answered "busy"',
    lambda _: metrics.REDIS_ERRORS.labels("web").inc(),
)


def guarded(handler: Handler) -> Handler:
    """Never a 500 or a traceback for the user: a failure is logged and answered "busy"."""

    async def guard(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            if client_left(request, exc):
                raise  # nobody to answer: the app's middleware notes it
            if isinstance(exc, FAILURES):  # an outage: counted, not a traceback per page
                _OUTAGE.count("web", exc)
            else:
                trace = redact("".join(traceback.format_exception(exc)))
                log.error("web %s %s failed: %s", request.method, request.path, trace)
            site = request.app[SITE]
            lang = site.default_lang
            sid = session_id(request)
            main = pages.notice(site.texts, lang, "busy")
            body = pages.document(site.texts, lang, site.csrf.token(sid) if sid else "", main)
            return pages.respond(body, status=503)

    return guard
