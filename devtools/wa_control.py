"""The development Graph API's control endpoints, and the process that serves it all.

GET  /control/messages?to=62...              what the phone received (oldest first)
GET  /control/wait?to=62...&count=N&timeout=S   the same, once it has at least N
POST /control/inject {"from", "text" | "button" | "list" | "type", "id", "timestamp",
                      "repeat"}               a phone's message, posted as a signed webhook
                                              (repeat > 1: the same notification again)
POST /control/config {"fail": [429, 503], "latency", "statuses", "status_delay",
                      "webhook_url"}          switches (fail: answers to the next sends)
GET  /control/stats                           counts, limit problems seen, CPU seconds
POST /control/reset                           forget messages, counts and faults
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from core.digits import is_digits
from core.httpjson import json_error, read_json_object
from devtools import wa_webhooks
from devtools.wa_sim import STATE, SimState, WaSimSettings, send_message

log = logging.getLogger(__name__)
_SWITCHES = {"latency": float, "statuses": bool, "status_delay": float, "webhook_url": str}


def _phone(request: web.Request, value: Any) -> str:
    if not isinstance(value, str) or not is_digits(value):
        raise json_error(web.HTTPBadRequest, "need a phone: digits, 62...")
    return value


async def messages(request: web.Request) -> web.Response:
    to = _phone(request, request.query.get("to"))
    return web.json_response({"to": to, "messages": request.app[STATE].inbox.get(to, [])})


async def wait(request: web.Request) -> web.Response:
    st, to = request.app[STATE], _phone(request, request.query.get("to"))
    try:
        count, timeout = (
            int(request.query.get("count", "1")),
            float(request.query.get("timeout", "5")),
        )
    except ValueError:
        raise json_error(web.HTTPBadRequest, "count and timeout must be numbers") from None
    async with st.arrived:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                st.arrived.wait_for(lambda: len(st.inbox.get(to, [])) >= count), timeout
            )
    return web.json_response({"to": to, "messages": st.inbox.get(to, [])})


def _title(st: SimState, phone: str, key: str) -> tuple[str, str]:
    """The title (and description) the phone was shown for a button or row id."""
    for sent in reversed(st.inbox.get(phone, [])):
        action = sent.get("interactive", {}).get("action", {})
        for button in action.get("buttons", []):
            if button["reply"]["id"] == key:
                return button["reply"]["title"], ""
        for section in action.get("sections", []):
            for row in section["rows"]:
                if row["id"] == key:
                    return row["title"], row.get("description", "")
    return key, ""


async def inject(request: web.Request) -> web.Response:
    st, data = request.app[STATE], await read_json_object(request)
    sender = _phone(request, data.get("from"))
    stamp = data.get("timestamp") if isinstance(data.get("timestamp"), int) else 0
    common = {"message_id": str(data.get("id") or ""), "timestamp": stamp}
    if isinstance(data.get("button"), str):
        title, _ = _title(st, sender, data["button"])
        incoming = wa_webhooks.message(sender, button=(data["button"], title), **common)
    elif isinstance(data.get("list"), str):
        title, description = _title(st, sender, data["list"])
        incoming = wa_webhooks.message(sender, row=(data["list"], title, description), **common)
    elif isinstance(data.get("text"), str):
        incoming = wa_webhooks.message(sender, text=data["text"], **common)
    else:
        incoming = wa_webhooks.message(sender, kind=str(data.get("type") or "image"), **common)
    st.last_inbound[sender] = int(incoming["timestamp"])
    notification = wa_webhooks.message_notification(st.settings.phone_number_id, incoming)
    body, headers = wa_webhooks.signed(st.settings.app_secret, notification)
    repeat = data.get("repeat", 1)
    if not isinstance(repeat, int) or isinstance(repeat, bool) or not 1 <= repeat <= 5:
        raise json_error(web.HTTPBadRequest, "repeat: a whole number from 1 to 5")
    statuses = [await st.post_raw(body, headers) for _ in range(repeat)]
    return web.json_response({"id": incoming["id"], "webhook_statuses": statuses})


async def configure(request: web.Request) -> web.Response:
    st, data = request.app[STATE], await read_json_object(request)
    unknown = set(data) - set(_SWITCHES) - {"fail"}
    if unknown:
        raise json_error(web.HTTPBadRequest, f"unknown switches: {sorted(unknown)}")
    if "fail" in data:
        if not isinstance(data["fail"], list) or not all(isinstance(s, int) for s in data["fail"]):
            raise json_error(web.HTTPBadRequest, "fail: a list of HTTP statuses")
        st.fail.clear()
        st.fail.extend(data["fail"])
    for key, kind in _SWITCHES.items():
        if key in data:
            setattr(st.settings, key, kind(data[key]))
    return web.json_response({**st.settings.__dict__, "fail": list(st.fail)})


async def stats(request: web.Request) -> web.Response:
    st = request.app[STATE]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return web.json_response(
        {**st.counts, "problems": st.problems, "pending_faults": list(st.fail),
         "cpu_seconds": usage.ru_utime + usage.ru_stime}
    )  # fmt: skip


async def reset(request: web.Request) -> web.Response:
    st = request.app[STATE]
    st.inbox.clear()
    st.last_inbound.clear()
    st.fail.clear()
    st.problems.clear()
    st.counts.update(dict.fromkeys(st.counts, 0))
    return web.json_response({"ok": True})


def sim_app(state: SimState) -> web.Application:
    app = web.Application(client_max_size=1 << 20)
    app[STATE] = state
    app.router.add_post("/{version}/{number}/messages", send_message)
    app.router.add_get("/control/messages", messages)
    app.router.add_get("/control/wait", wait)
    app.router.add_post("/control/inject", inject)
    app.router.add_post("/control/config", configure)
    app.router.add_get("/control/stats", stats)
    app.router.add_post("/control/reset", reset)

    async def client(app: web.Application) -> AsyncIterator[None]:
        state.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        yield
        for task in list(state.tasks):
            task.cancel()
        await state.http.close()

    app.cleanup_ctx.append(client)
    return app


async def run(settings: WaSimSettings) -> None:
    """Serve until cancelled; prints {"port": N} first (port 0 = any free port)."""
    runner = web.AppRunner(sim_app(SimState(settings)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    port = runner.addresses[0][1]
    print(orjson.dumps({"port": port}).decode(), flush=True)
    log.info("development Graph API on %s:%d, webhooks to %s", settings.host, port,
             settings.webhook_url)  # fmt: skip
    try:
        await asyncio.Event().wait()
    finally:
        with contextlib.suppress(Exception):
            await runner.cleanup()
