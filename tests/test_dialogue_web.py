"""The dialogue as the website runs it: `Channel.WEB` on real Redis and the real Registry.

A browser session is one dialogue session: it starts at the menus' `web` entry (the
phone is proven already, so the NIK comes first), lives `[dialogue]
web_session_ttl_seconds`, shows the page's language, and a numbered hop asked
again shows the same screen without applying anything.
"""

from __future__ import annotations

from dialogue.model import Channel, Inbound, SessionEvent
from tests.test_operator_api import book_one
from tests.ussd_harness import PHONE, last6, load_registry
from web.layout import WebLayout

LAYOUT = WebLayout(page_size=8)


def web(hop: int, text: str = "", *, event=SessionEvent.CONTINUE, lang="", choice="") -> Inbound:
    return Inbound(
        Channel.WEB, "web", "browser-1", PHONE, "", event, text, hop=hop, lang=lang, choice=choice
    )


async def test_a_browser_session_starts_at_the_nik_in_the_pages_language(
    context, redis, keys
) -> None:
    await load_registry(redis, keys)
    engine = context.engine
    first = await engine.handle(web(1, event=SessionEvent.NEW, lang="en"), layout=LAYOUT)
    assert first.view.screen_id == "nik" and first.view.lang == "en"
    ttl = await redis.ttl(keys.dialogue_session("web", "browser-1", PHONE))
    limit = engine.context.settings.web_session_ttl_seconds
    assert limit - 5 < ttl <= limit and limit > engine.context.settings.session_ttl_seconds
    # The page switches to Indonesian: the same hop asked again, nothing applied.
    again = await engine.handle(web(1, lang="id"), layout=LAYOUT)
    assert again.view.screen_id == "nik" and "6 digit terakhir NIK" in again.view.body
    assert not again.view.error
    worker = await engine.handle(web(2, last6(1), lang="id"), layout=LAYOUT)
    assert worker.view.screen_id == "worker_confirm" and "Lokasi vaksin" in worker.view.body


async def test_the_status_shows_the_ticket_and_leads_to_change_and_cancel(
    context, config, redis, keys
) -> None:
    await load_registry(redis, keys)
    code = await book_one(config, redis)
    engine = context.engine
    await engine.handle(web(1, event=SessionEvent.NEW), layout=LAYOUT)
    status = (await engine.handle(web(2, last6(1)), layout=LAYOUT)).view
    assert status.screen_id == "status" and status.ticket_code == code
    assert status.qr_link in status.body  # the long form: the web draws this QR
    assert [key for key, _ in status.options] == ["status.1", "status.2"]
    change = (await engine.handle(web(3, choice="status.2"), layout=LAYOUT)).view
    assert change.screen_id == "change" and [label for _, label in change.options] == [
        "Ubah jadwal",
        "Batalkan",
    ]
