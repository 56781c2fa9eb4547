"""The aiohttp application factory and the multi-process server runner.

`create_app(config)` wires Redis (opened and closed in a cleanup_ctx), the
Registry, the dialogue engine, the gateway routes, the WhatsApp webhook, the
operator API and console (help desk, dashboard), the phone simulator page when
enabled, and, in one worker only, the SMS channel and the WhatsApp sender.
`run_server()` runs `workers` processes sharing the port with SO_REUSEPORT, forked
and watched by ussd_server/workers.py; SIGINT/SIGTERM stop them cleanly.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from aiohttp import web

from core.aio import cancel_until_done
from core.config import Config
from core.settings import http_settings, service_settings
from devtools import phone_page
from devtools.phone_page import simulator_settings
from gateways import listener
from gateways.hops import HopHandler
from gateways.routes import add_routes
from gateways.settings import gateway_settings
from smpp.service import SmsService
from smpp.settings import smpp_settings
from ussd_server import console, operator_api
from ussd_server.context import CONTEXT, build_context
from ussd_server.http_guard import guard_limits, make_runner, serve, watch_requests
from ussd_server.metrics_route import metrics_handler
from ussd_server.ports import PortUnavailable, check_ports_free, serve_ports
from ussd_server.settings import console_settings, operator_api_settings
from ussd_server.tokens import OperatorTokens
from ussd_server.workers import Supervisor
from web.routes import add_web_routes
from web.settings import web_settings
from web.site import build_site
from whatsapp import routes as whatsapp_routes
from whatsapp import service as whatsapp_service
from whatsapp.settings import whatsapp_settings

log = logging.getLogger(__name__)


def create_app(config: Config, *, sms: bool = True) -> web.Application:
    """The whole server for one process; `sms=False` keeps the SMS channel out of it.

    The context (menus, settings, secrets) is built here, before anything is served:
    a bad menu file or a missing secret stops the start with its reason.
    """
    ctx = build_context(config)
    # Every secret is read now: a missing or empty one stops the start with its name.
    tokens = OperatorTokens.parse(config.secret("operator_api", "token") or "")
    max_upload = http_settings(config).max_upload_bytes
    # The root limit must allow operator uploads; gateway routes enforce max_body_bytes.
    app = web.Application(client_max_size=max_upload, middlewares=[watch_requests])
    app[CONTEXT] = ctx

    async def close_context(app: web.Application) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await ctx.aclose()

    app.cleanup_ctx.append(close_context)
    app.cleanup_ctx.append(_warm_up)
    if sms:
        # Background jobs that need one runner, not one per worker.
        app.cleanup_ctx.append(_booking_repair)
    if sms and smpp_settings(config).enabled:
        # Built now (settings, the bind password); it connects when the app starts.
        service = SmsService(
            ctx.config, ctx.redis, ctx.outbox, ctx.registry, ctx.engine, lean=ctx.lean
        )
        app.cleanup_ctx.append(_running(service))
    if whatsapp_settings(config).enabled:
        # Secrets are read now; the webhook is served by every worker, the sender by one.
        webhook, channel = whatsapp_service.build(
            config, lean=ctx.lean, redis=ctx.redis, engine=ctx.engine, menus=ctx.engine.menus
        )
        whatsapp_routes.add_routes(app, webhook)
        if sms:
            app.cleanup_ctx.append(_running(channel))
    gateway_routes = add_routes(app, config, ctx.engine, ctx.redis)
    if gateway_settings(config).gateway_port:
        app.cleanup_ctx.append(_gateway_listener(config, gateway_routes))
    if web_settings(config).enabled:
        site = build_site(
            config, dialogue=ctx.engine, registry=ctx.registry, outbox=ctx.outbox, kv=ctx.lean
        )
        add_web_routes(app, site)
    metrics_token = config.secret("metrics", "token", required=False)
    app.router.add_get("/metrics", metrics_handler(metrics_token))
    operator_api.setup(
        app, tokens, operator_api_settings(config), max_upload, _pages(app, gateway_routes, tokens)
    )
    return app


def _pages(
    app: web.Application, gateway_routes: dict[str, HopHandler], tokens: OperatorTokens
) -> dict[str, Any]:
    """Mount the operator console and (when enabled) the phone simulator; their API paths."""
    ctx, described = app[CONTEXT], dict[str, Any]()
    if console_settings(ctx.config).enabled:
        console.setup(app, ctx, tokens)  # reads the console's session key now
        described.update(console.console_paths())
    if simulator_settings(ctx.config).enabled:
        dialects = [path.removeprefix("/ussd/") for path in gateway_routes if path.count("/") == 2]
        phone_page.setup(app, ctx.config, dialects)
        described.update(phone_page.paths())
    return described


async def _warm_up(app: web.Application) -> AsyncIterator[None]:
    """Load Lua scripts and the facility cache before the first hop, not during it."""
    try:
        await app[CONTEXT].registry.warm_up()
    except (aioredis.RedisError, OSError) as exc:  # Redis away at start: serve "busy" screens
        log.warning("warm-up skipped, Redis not reachable: %s", exc)
    yield


async def _booking_repair(app: web.Application) -> AsyncIterator[None]:
    """Give back seats held by bookings a crashed process left half-done."""
    task = asyncio.create_task(app[CONTEXT].registry.maintenance_loop())
    try:
        yield
    finally:
        await cancel_until_done(task)


class Channel(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def _running(service: Channel) -> Callable[[web.Application], AsyncIterator[None]]:
    """A channel's background half as a cleanup context: started with the app, stopped with it."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    return run


def _gateway_listener(
    config: Config, handlers: dict[str, HopHandler]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The lean listener on ``[ussd] gateway_port`` (every worker shares the port)."""
    port, http = gateway_settings(config).gateway_port, http_settings(config)

    async def run(app: web.Application) -> AsyncIterator[None]:
        server = await listener.serve(
            handlers, http.host, port, http.max_body_bytes, reuse_port=True
        )
        try:
            yield
        finally:
            await listener.close(server)

    return run


def startup_warnings(config: Config) -> list[str]:
    """What an operator should fix before production, said once when `serve` starts."""
    warnings = []
    if smpp_settings(config).enabled and config.is_default("service", "public_base_url"):
        warnings.append(
            "[service] public_base_url is still the default: ticket SMS would link to "
            f"{service_settings(config).public_base_url}; set USSD_SERVICE_PUBLIC_BASE_URL"
        )
    if whatsapp_settings(config).enabled and config.is_default("service", "public_base_url"):
        warnings.append(
            "[service] public_base_url is still the default: WhatsApp would send QR images "
            "WhatsApp's servers cannot fetch; set USSD_SERVICE_PUBLIC_BASE_URL"
        )
    if config.secret("metrics", "token", required=False) is None:
        warnings.append(
            "GET /metrics is open: set USSD_METRICS_TOKEN or [metrics] token_file to require a "
            "bearer token"
        )
    if simulator_settings(config).enabled:
        warnings.append(
            "[simulator] enabled = true: /simulator lets anyone who reaches this server dial "
            "its USSD endpoints and text 1199 from a browser (a development tool)"
        )
    if gateway_settings(config).allow_unauthenticated:
        warnings.append(
            "[ussd] allow_unauthenticated = true: gateway endpoints without authentication "
            "accept callers from anywhere"
        )
    return warnings


async def _serve(config: Config, host: str, port: int, sms: bool, reuse_port: bool) -> None:
    # Signals first: a stop asked for while the channels start lets them finish starting,
    # then stops them cleanly (SMPP binds unbound), instead of cancelling them half-way.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    app_runner = make_runner(create_app(config, sms=sms), config)
    try:
        await app_runner.setup()
        server, guard = await serve(
            app_runner, host, port, guard_limits(config), reuse_port=reuse_port, backlog=1024
        )
    except BaseException:
        # A port taken (the gateway's, the main one): stop what had started (the SMS
        # channel's reconnect loop kept the process alive) before the error is told.
        await app_runner.cleanup()
        raise
    # Start-up objects (menus, settings, modules) never die: keep them out of GC scans,
    # and collect the young generation less often (hops allocate many short-lived dicts).
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    try:
        await stop.wait()
    finally:
        server.close()
        guard.stop()
        await app_runner.cleanup()


def _run_worker(config: Config, host: str, port: int, sms: bool, reuse_port: bool) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        asyncio.run(_serve(config, host, port, sms, reuse_port))
    else:
        uvloop.run(_serve(config, host, port, sms, reuse_port))


def _forked_worker(config: Config, host: str, port: int) -> Callable[[int], int]:
    """One of `serve --workers N`'s processes: its own event loop, Redis pool and engine;
    worker 0 also runs the one-per-server jobs (booking repair, SMS, WhatsApp sender)."""

    def run(index: int) -> int:
        try:
            _run_worker(config, host, port, sms=index == 0, reuse_port=True)
        except OSError as exc:  # a port taken by another program: say so, no traceback
            log.error("worker %d cannot serve: %s", index, exc)
            return 1
        return 0

    return run


def run_server(
    config: Config,
    host: str,
    port: int,
    workers: int = 1,
    announce: Callable[[], None] = lambda: None,
    port_setting: str = "[http] port",
) -> int:
    """Serve until SIGINT/SIGTERM; `workers` > 1 forks processes sharing the port and
    watches them (ussd_server/workers.py). ``announce`` runs once every port is known free
    (``port_setting`` names the main port's origin in the error). Returns the exit code:
    0 after a requested stop, 1 when the server could not serve, 3 when a worker had to be
    killed at the stop."""
    try:
        check_ports_free(serve_ports(config, host, port, port_setting))
    except PortUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if workers <= 1:
        announce()
        _run_worker(config, host, port, sms=True, reuse_port=False)
        return 0
    grace = http_settings(config).stop_grace_seconds
    supervisor = Supervisor(workers, _forked_worker(config, host, port), stop_grace=grace)
    return supervisor.run(announce)
