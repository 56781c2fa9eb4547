"""What every console page shares: the console's objects, the page frame, the guard.

:func:`operator_page` wraps a handler: no open sign-in sends a page to the login
(a POST or a fragment gets 401), a POST must carry the form's CSRF token
(403 otherwise) and stay small, and Redis being away is a 503 page, never a
traceback. Every answer is ``no-store`` with a Content-Security-Policy that
allows no script but the dashboard's own refresher.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import redis.asyncio as aioredis
from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from core.aio import Shared
from ussd_server.console.agents import AgentFile
from ussd_server.console.audit import AuditLog
from ussd_server.console.sessions import Agent, LoginLimiter, Sessions
from ussd_server.context import AppContext
from ussd_server.settings import ConsoleSettings
from ussd_server.tokens import OperatorTokens
from web import kit
from web.form_body import read_form

log = logging.getLogger(__name__)

COOKIE = "vx_console"
MAX_FORM_BYTES = 16384
NAV = (("/helpdesk", "Help desk"), ("/dashboard", "Dashboard"), ("/helpdesk/audit", "Audit log"))

Form = MultiDictProxy[str | bytes | object]


@dataclass(frozen=True)
class Console:
    ctx: AppContext
    settings: ConsoleSettings
    tokens: OperatorTokens
    sessions: Sessions
    limiter: LoginLimiter
    csrf: kit.Csrf
    audit: AuditLog
    agents: AgentFile | None  # [console] agents_file, None when password sign-in is off
    https: bool  # the public base URL is https: cookies are Secure
    address_header: str  # [http] client_address_header: who a sign-in comes from
    figures: Shared[Any]  # the dashboard's, read once per interval whoever is watching


CONSOLE: web.AppKey[Console] = web.AppKey("console", Console)

PageHandler = Callable[[web.Request, Console, Agent, Form], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def respond(html: str, status: int = 200, *, scripts: Sequence[str] = ()) -> web.Response:
    """An HTML answer no cache keeps, that no other site can frame or script."""
    script_src = " ".join(script_hash(s) for s in scripts) or "'none'"
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        f"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        f"script-src {script_src}"
    )
    headers = {
        "Cache-Control": "no-store",
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }
    return web.Response(text=html, status=status, content_type="text/html", headers=headers)


def see_other(location: str) -> web.Response:
    """303 to ``location`` (a response, so cookies can be set on it)."""
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def frame(title: str, body: str, agent: Agent | None = None, console: Console | None = None) -> str:
    """A console page: the kit's page, the console's links and, signed in, a sign-out form."""
    if agent is not None and console is not None:
        token = console.csrf.token(agent.session_id)
        signed = f"<p>Signed in as <strong>{kit.esc(agent.name)}</strong>.</p>" + kit.form(
            "/helpdesk/logout", token, "", kit.button("Sign out", secondary=True)
        )
        body = body + signed
    links = NAV if agent is not None else ()
    return kit.page(title, "en", body, header_links=links, heading="Vaksin console")


def field(form: Form, name: str, *, strip: bool = True) -> str:
    """A form field as text, stripped unless ``strip`` is False ("" when absent or not
    text). A password is read unstripped: its spaces are part of it."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value.strip() if strip else value


def message_page(title: str, text: str, link: tuple[str, str] = ("", "")) -> str:
    href, label = link
    more = f'<p><a href="{kit.esc(href)}">{kit.esc(label)}</a></p>' if href else ""
    return frame(title, f"<h1>{kit.esc(title)}</h1><p>{kit.esc(text)}</p>{more}")


def operator_page(handler: PageHandler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        console = request.config_dict[CONSOLE]
        try:
            agent = await console.sessions.agent(request.cookies.get(COOKIE, ""))
            if agent is None:
                return _sign_in_first(request)
            form: Form = MultiDictProxy(MultiDict())
            if request.method == "POST":
                posted = await posted_form(request, ("/helpdesk", "Help desk"))
                if isinstance(posted, web.Response):
                    return posted
                form = posted
                if not console.csrf.valid(agent.session_id, field(form, "csrf")):
                    return _stale_form()
            return await handler(request, console, agent, form)
        except (aioredis.RedisError, OSError) as exc:
            log.warning("console %s: Redis not reachable: %s", request.path, exc)
            text = "The database does not answer right now. Please try again in a minute."
            return respond(message_page("Try again", text), 503)

    return guarded


def _sign_in_first(request: web.Request) -> web.StreamResponse:
    if request.method == "GET" and not request.path.endswith("/fragment"):
        return see_other(f"/helpdesk/login?next={quote(request.path)}")
    text = "Your sign-in has ended. Sign in again."
    return respond(message_page("Signed out", text, ("/helpdesk/login", "Sign in")), 401)


async def posted_form(request: web.Request, back: tuple[str, str]) -> Form | web.Response:
    """The posted url-encoded form, or the page refusing it (nothing was done).

    A body without Content-Length (chunked) is refused unread: aiohttp would read up
    to the uploads' limit into memory before anyone signed in.
    """
    if request.content_length is None:
        text = "A form must say its length (Content-Length); nothing was done."
        return respond(message_page("Form refused", text, back), 411)
    if request.content_length > MAX_FORM_BYTES:
        return respond(message_page("Too large", "That form is too large."), 413)
    form = await read_form(request, MAX_FORM_BYTES)
    if form is None:
        text = "That form could not be read, so nothing was done. Reload the page and try again."
        return respond(message_page("Form refused", text, back), 400)
    return form


def _stale_form() -> web.Response:
    text = (
        "This form has expired or was not sent from this console, so nothing was done. "
        "Go back, reload the page and try again."
    )
    return respond(message_page("Form refused", text, ("/helpdesk", "Help desk")), 403)
