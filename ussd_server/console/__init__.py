"""The operator console: the help desk (``/helpdesk``) and the dashboard (``/dashboard``).

Server-rendered pages (``web.kit``) for operators and hotline agents, signed in
with an operator token or a name and password from ``[console] agents_file``.
See docs/console.md. :func:`setup` mounts it; :func:`console_paths` describes
every route for the OpenAPI document (one table, so they cannot drift).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.aio import Shared
from core.config import ConfigError
from core.settings import http_settings, service_settings
from ussd_server.console import booking, dashboard, helpdesk, login
from ussd_server.console.agents import AgentFile
from ussd_server.console.audit import AuditLog
from ussd_server.console.base import CONSOLE, Console, Handler
from ussd_server.console.sessions import LoginLimiter, Sessions
from ussd_server.context import AppContext
from ussd_server.keys import ShellKeys
from ussd_server.settings import console_settings
from ussd_server.tokens import OperatorTokens
from web import kit

# (method, path, handler, summary): every console route.
ROUTES: tuple[tuple[str, str, Handler, str], ...] = (
    ("GET", "/helpdesk/login", login.login_page, "the sign-in page (operator token or password)"),
    ("POST", "/helpdesk/login", login.login, "sign in; failed attempts limited per address"),
    ("POST", "/helpdesk/logout", login.logout, "sign out (ends the session)"),
    ("GET", "/helpdesk", helpdesk.home, "help desk: find a health worker"),
    ("POST", "/helpdesk/search", helpdesk.search, "find registrants by NIK or phone"),
    ("POST", "/helpdesk/registrant", helpdesk.view, "a registrant's status and actions"),
    ("POST", "/helpdesk/reveal", helpdesk.reveal, "show a registrant's full NIK (recorded)"),
    ("POST", "/helpdesk/register", booking.screening_form, "the screening questions"),
    ("POST", "/helpdesk/screening", booking.screening, "record the caller's screening answers"),
    ("POST", "/helpdesk/choose-facility", booking.choose_facility, "choose where to book"),
    ("POST", "/helpdesk/slots", booking.slots, "the free slots of a facility"),
    ("POST", "/helpdesk/book", booking.book, "book or reschedule; queues the ticket SMS"),
    ("POST", "/helpdesk/cancel", helpdesk.cancel, "cancel a booking (asks to confirm first)"),
    ("POST", "/helpdesk/resend", helpdesk.resend, "re-send the ticket SMS"),
    ("GET", "/helpdesk/audit", helpdesk.audit_page, "the audit log of agent actions"),
    ("GET", "/dashboard", dashboard.page, "the operator dashboard"),
    ("GET", "/dashboard/fragment", dashboard.fragment, "the dashboard's figures alone"),
)


def setup(app: web.Application, ctx: AppContext, tokens: OperatorTokens) -> Console:
    """Build the console (reading its session key now) and add its routes to ``app``."""
    config = ctx.config
    settings = console_settings(config)
    try:
        secret = config.secret("console", "session_key") or ""
    except ConfigError as exc:
        raise ConfigError(f"{exc}; or turn the console off: [console] enabled = false") from exc
    keys = ShellKeys(ctx.key_prefix)
    agents = AgentFile(config.resolve_path(settings.agents_file)) if settings.agents_file else None
    console = Console(
        ctx=ctx,
        settings=settings,
        tokens=tokens,
        sessions=Sessions(
            ctx.redis,
            keys,
            secret,
            settings.session_minutes * 60,
            agents,
            tokens=tokens.fingerprints(),
        ),
        limiter=LoginLimiter(
            ctx.redis, keys, settings.login_attempts, settings.login_window_seconds
        ),
        csrf=kit.Csrf(secret),
        audit=AuditLog.of(ctx),
        agents=agents,
        https=service_settings(config).public_base_url.startswith("https://"),
        address_header=http_settings(config).client_address_header,
        figures=Shared(settings.dashboard_figures_seconds),
    )
    app[CONSOLE] = console
    for method, path, handler, _ in ROUTES:
        app.router.add_route(method, path, handler)
    return console


def console_paths() -> dict[str, Any]:
    """The console's part of the OpenAPI description (HTML pages, a session cookie)."""
    paths: dict[str, Any] = {}
    html = {"text/html": {"schema": {"type": "string"}}}
    for method, path, _, summary in ROUTES:
        responses: dict[str, Any] = {"200": {"description": "the page", "content": html}}
        if path != "/helpdesk/login":
            responses["303"] = {"description": "not signed in: to the sign-in page"}
            responses["401"] = {"description": "the sign-in has ended", "content": html}
        if method == "POST":
            responses["400"] = {"description": "not a url-encoded UTF-8 form", "content": html}
            responses["403"] = {"description": "no or a wrong CSRF token", "content": html}
            form = {"type": "object", "additionalProperties": {"type": "string"}}
            more = {
                "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": form}}}
            }
        else:
            more = {}
        if (method, path) == ("POST", "/helpdesk/login"):
            responses["303"] = {"description": "signed in: to the page asked for"}
            responses["401"] = {"description": "wrong credentials", "content": html}
            responses["429"] = {"description": "too many failed sign-ins", "content": html}
        if path != "/helpdesk/login":
            more["security"] = [{"console": []}]
        paths.setdefault(path, {})[method.lower()] = {
            "summary": summary,
            "tags": ["console"],
            "responses": responses,
            **more,
        }
    return paths
