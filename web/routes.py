"""The pages of `/daftar`: phone -> one-time code -> the dialogue's screens, one per page.

``GET /daftar`` shows where the browser's session is; every form posts to its own
route, which checks the CSRF token, acts, and redirects back (303), so a reload
never posts twice. Dialogue answers are numbered hops: a form sent twice is the
same hop, answered once. Nothing personal travels in a URL.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from multidict import MultiDictProxy

from core.digits import is_digits, whole_number
from core.phone import normalise_phone
from core.privacy import mask_phone
from dialogue.menus import LANGUAGES
from dialogue.model import Channel, Inbound, SessionEvent, View, ViewKind
from web import pages, screens
from web.form_body import read_form
from web.otp import RESUBMIT_SECONDS, Checked, Sent
from web.site import SITE, Handler, Site, guarded
from web.state import (
    WebState,
    new_session_id,
    session_hash,
    session_id,
    set_cookie,
    set_language_cookie,
)

log = logging.getLogger(__name__)

MAX_FIELD = 80  # longer answers are not answers: cut before anything looks at them


@dataclass(slots=True)
class Posted:
    sid: str
    state: WebState
    form: MultiDictProxy[str | bytes | web.FileField]

    def field(self, name: str) -> str:
        value = self.form.get(name, "")
        return value[:MAX_FIELD] if isinstance(value, str) else ""


FormHandler = Callable[[web.Request, Site, Posted], Awaitable[web.Response]]


def _see_other() -> web.Response:
    return web.Response(status=303, headers={**pages.HEADERS, "Location": "/daftar"})


def _page(site: Site, sid: str, lang: str, main: str, status: int = 200) -> web.Response:
    token = site.csrf.token(sid) if sid else ""
    return pages.respond(pages.document(site.texts, lang, token, main), status)


def _inbound(sid: str, state: WebState, event: SessionEvent, hop: int, **answer: str) -> Inbound:
    return Inbound(
        Channel.WEB, "web", session_hash(sid), state.phone, "", event,
        answer.get("text", ""), hop=hop, choice=answer.get("choice", ""), lang=state.lang,
    )  # fmt: skip


async def _screen(site: Site, sid: str, state: WebState) -> str:
    """The dialogue's current screen (asked again with the last hop: nothing is applied)."""
    out = await site.dialogue.handle(
        _inbound(sid, state, SessionEvent.CONTINUE, state.hop), layout=site.layout
    )
    view = out.view or View(ViewKind.END, "", state.lang, out.text)
    card = await site.cards.card(view)
    form = screens.Form(site.csrf.token(sid), state.hop + 1)
    return screens.screen_form(view, form, site.layout, site.texts, card)


async def show(request: web.Request) -> web.Response:
    site = request.config_dict[SITE]
    sid = session_id(request)
    state = await site.states.load(sid) or site.fresh(request)
    fresh = not sid
    sid = sid or new_session_id()
    token, texts, lang = site.csrf.token(sid), site.texts, state.lang
    if state.phone:
        main = await _screen(site, sid, state)
    elif state.pending:
        phone = mask_phone(state.pending)
        main = pages.code_form(texts, lang, token, phone=phone, minutes=site.code_minutes)
    else:
        main = pages.phone_form(texts, lang, token)
    response = pages.respond(pages.document(texts, lang, token, main))
    if fresh:
        set_cookie(response, request, sid, always_secure=site.settings.secure_cookie)
    return response


async def _posted(request: web.Request, site: Site) -> Posted | web.Response:
    """The form, once its size, type and CSRF token are right; else the refusal page."""
    sid, lang = session_id(request), site.default_lang
    form = await read_form(request, site.max_body)
    if form is None:  # too large, chunked, another type, not UTF-8
        main = pages.notice(site.texts, lang, "form_expired")
        return _page(site, sid, lang, main, status=400)
    token = form.get("csrf", "")
    if not site.csrf.valid(sid, token if isinstance(token, str) else ""):
        log.info("web form refused: missing or wrong CSRF token (%s)", request.path)
        main = (
            pages.notice(site.texts, lang, "form_expired") + '<p><a href="/daftar">/daftar</a></p>'
        )
        return _page(site, sid, lang, main, status=403)
    return Posted(sid, await site.states.load(sid) or site.fresh(request), form)


async def post_phone(request: web.Request, site: Site, posted: Posted) -> web.Response:
    if posted.state.phone:
        return _see_other()
    typed = posted.field("phone")
    phone = normalise_phone(typed)
    if not phone.ok:  # the field comes back empty: what was typed may be NIK digits
        lang = posted.state.lang
        error = site.texts.get("phone_invalid", lang)
        main = pages.phone_form(site.texts, lang, site.csrf.token(posted.sid), error=error)
        return _page(site, posted.sid, lang, main, status=400)
    return await _send_code(request, site, posted, phone.value, typed, stands=RESUBMIT_SECONDS)


async def _send_code(
    request: web.Request, site: Site, posted: Posted, phone: str, typed: str, stands: int = 0
) -> web.Response:
    """`stands`: a code issued this many seconds ago or less is kept (a form sent twice);
    an explicit "send again" passes 0."""
    state, texts = posted.state, site.texts
    address = site.client_address(request)
    result = await site.codes.send(phone, address, state.lang, stands=stands)
    if result.outcome is Sent.SENT:
        state.pending = phone
        await site.states.save(posted.sid, state)
        return _see_other()
    key = "phone_limited" if result.outcome is Sent.PHONE_LIMITED else "client_limited"
    minutes = math.ceil(result.retry_seconds / 60)
    token, lang = site.csrf.token(posted.sid), state.lang
    if state.pending:
        form = pages.code_form(
            texts, lang, token, phone=mask_phone(phone), minutes=site.code_minutes
        )
        main = pages.notice(texts, lang, key, minutes=minutes) + form
    else:  # `typed` is a valid mobile number here (at most 14 digits): never a NIK
        error = texts.get(key, lang, minutes=minutes)
        main = pages.phone_form(texts, lang, token, error=error, typed=typed)
    response = _page(site, posted.sid, lang, main, status=429)
    response.headers["Retry-After"] = str(max(1, result.retry_seconds))
    return response


CODE_ERRORS = {
    Checked.WRONG: "code_wrong",
    Checked.USED_UP: "code_used_up",
    Checked.NONE: "code_none",
}


async def post_code(request: web.Request, site: Site, posted: Posted) -> web.Response:
    state = posted.state
    if state.phone or not state.pending:
        return _see_other()
    action = posted.field("do")
    if action == "change":
        state.pending = ""
        await site.states.save(posted.sid, state)
        return _see_other()
    if action == "resend":
        return await _send_code(request, site, posted, state.pending, "")
    code = "".join(posted.field("code").split())
    error = ""
    if not (len(code) == 6 and is_digits(code)):
        error = site.texts.get("code_format", state.lang)
    else:
        result = await site.codes.check(state.pending, code)
        if result.outcome is Checked.OK:
            return await _proven(request, site, posted)
        error = site.texts.get(CODE_ERRORS[result.outcome], state.lang, tries=result.tries_left)
    token, phone = site.csrf.token(posted.sid), mask_phone(state.pending)
    main = pages.code_form(
        site.texts, state.lang, token, phone=phone, minutes=site.code_minutes, error=error
    )
    return _page(site, posted.sid, state.lang, main, status=400)


async def _proven(request: web.Request, site: Site, posted: Posted) -> web.Response:
    """The code matched: a new session id (nothing from before the proof carries over)
    for the proven phone, and the dialogue starts."""
    sid = new_session_id()
    state = WebState(lang=posted.state.lang, phone=posted.state.pending, hop=1)
    await site.states.drop(posted.sid)
    out = await site.dialogue.handle(_inbound(sid, state, SessionEvent.NEW, 1), layout=site.layout)
    state.lang = out.view.lang if out.view is not None else state.lang
    await site.states.save(sid, state)
    log.info("web phone proven: %s", mask_phone(state.phone))
    response = _see_other()
    set_cookie(response, request, sid, always_secure=site.settings.secure_cookie)
    return response


async def post_answer(request: web.Request, site: Site, posted: Posted) -> web.Response:
    state = posted.state
    if not state.phone:  # the session ended (or never began): start from the phone
        token, lang = site.csrf.token(posted.sid), state.lang
        main = pages.notice(site.texts, lang, "session_over") + pages.phone_form(
            site.texts, lang, token
        )
        return _page(site, posted.sid, lang, main)
    hop = _hop(posted)
    if posted.field("start"):
        inbound = _inbound(posted.sid, state, SessionEvent.NEW, hop)
    else:
        choice = posted.field("nav") or posted.field("choice")
        text = "" if choice else posted.field("text")
        inbound = _inbound(posted.sid, state, SessionEvent.CONTINUE, hop, choice=choice, text=text)
    out = await site.dialogue.handle(inbound, layout=site.layout)
    state.hop = max(state.hop, hop)
    state.lang = out.view.lang if out.view is not None else state.lang
    await site.states.save(posted.sid, state)
    return _see_other()


def _hop(posted: Posted) -> int:
    """The hop this form answers: its own number (a form sent twice is one hop), at most
    the next one (a form cannot skip ahead). Without a readable number it answers the
    last hop again: applied once already, so nothing is applied twice (every page's
    form carries its number; only a hand-made post lacks it)."""
    hop = whole_number(posted.field("hop"))
    last = posted.state.hop
    return last if hop is None else max(1, min(hop, last + 1))


async def post_language(request: web.Request, site: Site, posted: Posted) -> web.Response:
    """The language switch: saved with the session once it has a phone; before that only
    in a cookie (an anonymous visitor's clicks must not fill Redis)."""
    lang, state, response = posted.field("lang"), posted.state, _see_other()
    if lang not in LANGUAGES or lang == state.lang:
        return response
    state.lang = lang
    if state.pending or state.phone:
        await site.states.save(posted.sid, state)
    else:
        secure = site.settings.secure_cookie
        set_language_cookie(response, request, lang, always_secure=secure)
    return response


async def post_logout(request: web.Request, site: Site, posted: Posted) -> web.Response:
    await site.states.drop(posted.sid)
    response = _see_other()
    set_cookie(response, request, new_session_id(), always_secure=site.settings.secure_cookie)
    return response


def with_form(handler: FormHandler) -> Handler:
    """A POST handler that runs only for a well-formed form with its CSRF token."""

    async def handle(request: web.Request) -> web.Response:
        site = request.config_dict[SITE]
        posted = await _posted(request, site)
        if isinstance(posted, web.Response):
            return posted
        return await handler(request, site, posted)

    return handle


def add_web_routes(app: web.Application, site: Site) -> list[str]:
    """Serve the site on `app`; returns the paths added."""
    app[SITE] = site
    app.router.add_get("/daftar", guarded(show))
    posts = {
        "/daftar/phone": post_phone,
        "/daftar/code": post_code,
        "/daftar/answer": post_answer,
        "/daftar/lang": post_language,
        "/daftar/logout": post_logout,
    }
    for path, handler in posts.items():
        app.router.add_post(path, guarded(with_form(handler)))
    return ["/daftar", *posts]
