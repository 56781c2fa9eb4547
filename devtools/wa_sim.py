"""The development Graph API: accepts sends like WhatsApp's, keeps them, posts webhooks.

``POST /<version>/<phone_number_id>/messages`` checks the bearer token, the number,
every WhatsApp limit (a message that breaks one gets 400 and is listed under
``problems``) and the 24-hour window of phones it injected for; it answers with
a ``wamid`` and, when ``statuses`` is on, posts signed "sent" and "delivered"
notifications back. ``devtools.wa_control`` adds the control endpoints (what each
phone received, a phone's messages injected as signed webhooks, faults: answers of
429 or 5xx, latency) and runs the whole as a process.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from core.aio import run_held
from core.config import Config
from devtools import wa_webhooks
from whatsapp import limits

log = logging.getLogger(__name__)
WINDOW_SECONDS = 24 * 3600


@dataclass
class WaSimSettings:
    """`[wa_sim]`; mutable: the control endpoint switches behaviour at run time."""

    host: str
    port: int
    phone_number_id: str
    access_token: str
    app_secret: str
    verify_token: str
    webhook_url: str
    statuses: bool
    status_delay: float
    latency: float


def wa_sim_settings(config: Config) -> WaSimSettings:
    return config.load("wa_sim", WaSimSettings)


@dataclass
class SimState:
    settings: WaSimSettings
    inbox: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # phone -> received
    last_inbound: dict[str, int] = field(default_factory=dict)  # phone -> epoch seconds
    fail: deque[int] = field(default_factory=deque)  # HTTP statuses for the next sends
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("accepted", "refused", "invalid", "webhooks_posted", "webhooks_failed"), 0))  # fmt: skip
    problems: list[str] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    http: aiohttp.ClientSession | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coro: Any) -> None:
        run_held(self.tasks, coro)

    async def post(self, notification: dict[str, Any]) -> int:
        """Sign and post one notification to the webhook; its HTTP status (0: unreachable)."""
        body, headers = wa_webhooks.signed(self.settings.app_secret, notification)
        return await self.post_raw(body, headers)

    async def post_raw(self, body: bytes, headers: dict[str, str]) -> int:
        assert self.http is not None
        try:
            async with self.http.post(self.settings.webhook_url, data=body, headers=headers) as r:
                await r.read()
                status = r.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("webhook %s unreachable: %s", self.settings.webhook_url, exc)
            status = 0
        self.counts["webhooks_posted" if status == 200 else "webhooks_failed"] += 1
        return status


STATE: web.AppKey[SimState] = web.AppKey("wa_sim_state", SimState)


def graph_error(status: int, code: int, message: str) -> web.Response:
    body = {"error": {"message": message, "type": "OAuthException", "code": code}}
    headers = {"Retry-After": "1"} if status == 429 else None
    return web.json_response(body, status=status, headers=headers)


def _refusal(st: SimState, request: web.Request, payload: Any) -> web.Response | None:
    """A Graph-like error for a request WhatsApp would refuse; None when it is fine."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").encode()
    if not hmac.compare_digest(token, st.settings.access_token.encode()):
        return graph_error(401, 190, "Invalid OAuth access token")
    if request.match_info["number"] != st.settings.phone_number_id:
        return graph_error(400, 100, "Unsupported post request: unknown phone number id")
    if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
        return graph_error(400, 100, "messaging_product must be whatsapp")
    to = payload.get("to")
    if not isinstance(to, str) or not to.isdigit():
        return graph_error(400, 100, "to must be a phone number")
    problems = limits.problems(payload)
    if problems:
        st.problems += [f"{to}: {p}" for p in problems]
        st.counts["invalid"] += 1
        return graph_error(400, 131009, "Parameter value is not valid: " + "; ".join(problems))
    last = st.last_inbound.get(to)
    if payload["type"] != "template" and last and time.time() - last > WINDOW_SECONDS:
        return graph_error(400, 131047, "Re-engagement message: more than 24 hours have passed")
    return None


async def send_message(request: web.Request) -> web.Response:
    st = request.app[STATE]
    if st.settings.latency:
        await asyncio.sleep(st.settings.latency)
    try:
        payload = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        payload = None
    refused = _refusal(st, request, payload)
    if refused is not None:
        return refused
    if st.fail:
        status = st.fail.popleft()
        st.counts["refused"] += 1
        if status == 429:
            return graph_error(429, 130429, "Rate limit hit")
        return graph_error(status, 1, "An unknown error occurred")
    wamid = "wamid.SIM" + uuid.uuid4().hex.upper()
    to = payload["to"]
    kept = {k: v for k, v in payload.items() if k not in ("messaging_product", "recipient_type")}
    async with st.arrived:
        st.inbox.setdefault(to, []).append({"id": wamid, "at": time.time(), **kept})
        st.counts["accepted"] += 1
        st.arrived.notify_all()
    if st.settings.statuses:
        st.spawn(_statuses(st, wamid, to))
    return web.json_response(
        {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
         "messages": [{"id": wamid}]}
    )  # fmt: skip


async def _statuses(st: SimState, wamid: str, to: str) -> None:
    for status in ("sent", "delivered"):
        await asyncio.sleep(st.settings.status_delay)
        number = st.settings.phone_number_id
        await st.post(wa_webhooks.status_notification(number, wamid, to, status))
