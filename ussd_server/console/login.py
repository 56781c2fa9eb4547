"""Signing in to the console (an operator token, or a name and password) and out.

The login forms carry a CSRF token too, bound to a short-lived pre-login cookie,
so no other site can sign a browser in under its own account. Failed attempts
are counted per client address (``[console] login_attempts`` per
``login_window_seconds``); past the limit every attempt, right or wrong, waits.
Each attempt is counted before it is checked and a successful one counted back,
so attempts sent at once cannot slip past the limit together.
A password is checked in a thread (scrypt takes tens of milliseconds of CPU).
The audit names who a refused sign-in claimed to be only when that is an agent
in the file: anything else typed there (a NIK, a phone, a name) is not kept.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

import redis.asyncio as aioredis
from aiohttp import web

from core.peers import client_address
from ussd_server.console.base import (
    CONSOLE,
    COOKIE,
    Console,
    Form,
    field,
    frame,
    message_page,
    operator_page,
    posted_form,
    respond,
    see_other,
)
from ussd_server.console.passwords import AgentFileError
from ussd_server.console.sessions import Agent
from ussd_server.tokens import token_fingerprint
from web import kit

log = logging.getLogger(__name__)

PRE_COOKIE = "vx_console_pre"
PRE_COOKIE_SECONDS = 3600
LANDINGS = ("/helpdesk", "/dashboard")
UNKNOWN_NAME = "(unknown name)"


def _landing(requested: str) -> str:
    """Where to go after signing in: one of the console's own pages, nothing else."""
    plain = requested.replace("/", "").replace("-", "").replace("_", "").isalnum()
    for page in LANDINGS:
        if plain and (requested == page or requested.startswith(page + "/")):
            return requested
    return "/helpdesk"


def _secure(console: Console, request: web.Request) -> bool:
    return console.https or request.secure


def login_html(console: Console, pre: str, landing: str, error: str = "") -> str:
    token = console.csrf.token("pre:" + pre)
    hidden = f'<input type="hidden" name="next" value="{kit.esc(landing)}">'
    notice = f'<p class="error" role="alert">{kit.esc(error)}</p>' if error else ""
    password_form = ""
    if console.agents is not None:
        password_form = kit.form(
            "/helpdesk/login",
            token,
            '<input type="hidden" name="method" value="password">'
            + hidden
            + "<h2>Agent name and password</h2>"
            + kit.text_input("name", "Agent name", autocomplete="username")
            + kit.text_input(
                "secret", "Password", kind="password", autocomplete="current-password"
            ),
            kit.button("Sign in"),
        )
    token_form = kit.form(
        "/helpdesk/login",
        token,
        '<input type="hidden" name="method" value="token">'
        + hidden
        + "<h2>Operator token</h2>"
        + kit.text_input("token", "Token", kind="password"),
        kit.button("Sign in with the token"),
    )
    body = f"<h1>Sign in</h1>{notice}{password_form}<p></p>{token_form}"
    return frame("Sign in - Vaksin console", body)


async def login_page(request: web.Request) -> web.Response:
    console = request.config_dict[CONSOLE]
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(18)
    response = respond(login_html(console, pre, _landing(request.query.get("next", ""))))
    response.set_cookie(
        PRE_COOKIE,
        pre,
        max_age=PRE_COOKIE_SECONDS,
        path="/helpdesk",
        httponly=True,
        samesite="Strict",
        secure=_secure(console, request),
    )
    return response


def _method(console: Console, form: Form) -> str:
    """How a sign-in is attempted: "password" (when agents can have one) or "token"."""
    wants_password = field(form, "method") == "password"
    return "password" if wants_password and console.agents is not None else "token"


async def _who(console: Console, form: Form, how: str) -> tuple[str | None, str]:
    """(the agent these credentials name or None, their password's or token's fingerprint)."""
    if how == "password" and console.agents is not None:
        # The password exactly as typed: `console-agent add` keeps it as given too.
        name, password = field(form, "name"), field(form, "secret", strip=False)
        fingerprint = await asyncio.to_thread(console.agents.check, name, password)
        return (name, fingerprint) if fingerprint else (None, "")
    token = field(form, "token")
    label = console.tokens.label_for("Bearer " + token)
    return (label, token_fingerprint(token.encode())) if label else (None, "")


def _claimed(console: Console, form: Form, how: str) -> str:
    """Who a refused sign-in claimed to be, for the audit and the log: a name only when
    it is an agent's (anything else typed there, a NIK, a phone or a person, is not kept)."""
    if how != "password" or console.agents is None:
        return "(token)"
    name = field(form, "name")
    try:
        return name if console.agents.known(name) else UNKNOWN_NAME
    except AgentFileError:  # logged where the sign-in itself fails
        return UNKNOWN_NAME


async def login(request: web.Request) -> web.StreamResponse:
    console = request.config_dict[CONSOLE]
    pre = request.cookies.get(PRE_COOKIE, "")
    form = await posted_form(request, ("/helpdesk/login", "Sign in"))
    if isinstance(form, web.Response):
        return form
    landing = _landing(field(form, "next"))
    if not console.csrf.valid("pre:" + pre, field(form, "csrf")):
        text = "This sign-in form has expired. Reload the page and sign in again."
        return respond(message_page("Form refused", text, ("/helpdesk/login", "Sign in")), 403)
    address = client_address(request, console.address_header)
    how = _method(console, form)
    try:
        attempt = await console.limiter.take(address)
        if attempt > console.limiter.attempts:
            await _record_limited(console, form, how, address, attempt)
            return _too_many(console, pre, landing)
        try:
            agent, fingerprint = await _who(console, form, how)
        except AgentFileError as exc:
            await console.limiter.refund(address)  # nothing was checked
            log.error("console agents file: %s", exc)
            text = "Password sign-in is unavailable (the agents file has an error); use a token."
            return respond(message_page("Sign-in unavailable", text), 503)
        if agent is None:
            detail = f"{how} from {address}"
            await console.audit.record(_claimed(console, form, how), "login_refused", "", detail)
            error = "Wrong name or password." if how == "password" else "Unknown token."
            return respond(login_html(console, pre, landing, error), 401)
        await console.limiter.refund(address)  # only failures count against the limit
        cookie = await console.sessions.open(agent, how, fingerprint)
        await console.audit.record(agent, "login", detail=how)
    except (aioredis.RedisError, OSError) as exc:
        log.warning("console login: Redis not reachable: %s", exc)
        return respond(message_page("Try again", "The database does not answer."), 503)
    response = see_other(landing)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=console.sessions.lifetime,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=_secure(console, request),
    )
    response.del_cookie(PRE_COOKIE, path="/helpdesk")
    return response


async def _record_limited(
    console: Console, form: Form, how: str, address: str, attempt: int
) -> None:
    """Record a sign-in refused by the limit: the first of each window and address only,
    so a flood of them cannot push the audit log's history out (audit_max_entries)."""
    if attempt == console.limiter.attempts + 1:
        detail = f"{how} from {address}: too many failed sign-ins, later ones not listed"
        await console.audit.record(_claimed(console, form, how), "login_limited", "", detail)


def _too_many(console: Console, pre: str, landing: str) -> web.Response:
    minutes = max(console.limiter.window // 60, 1)
    error = f"Too many failed sign-ins from this address. Try again in {minutes} minutes."
    return respond(login_html(console, pre, landing, error), 429)


@operator_page
async def logout(
    request: web.Request, console: Console, agent: Agent, form: Form
) -> web.StreamResponse:
    await console.sessions.close(agent.session_id)
    await console.audit.record(agent.name, "logout")
    response = see_other("/helpdesk/login")
    response.del_cookie(COOKIE, path="/")
    return response
