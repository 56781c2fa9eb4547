"""``/simulator``: a phone in the browser, for integrators and demonstrations (development).

It dials ``*119#`` against this server's own USSD dialect endpoints over HTTP,
exactly as the terminal phone does (:class:`devtools.simulate.Gateway`), and
sends SMS to the service number through the development SMSC's control port
(``POST /inject``; the phone's inbox is ``GET /messages?to=``). No JavaScript:
each hop is a form, and the session (dialect, number, gateway session id,
answers so far) rides in the form, so any worker process can answer the next hop.
Mounted only when ``[simulator] enabled`` (``make run`` turns it on).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from aiohttp import web

from core.config import Config
from core.phone import normalise_phone
from core.secret_compare import same_secret
from devtools import phone_view
from devtools.phone_view import Handset, PhonePage
from devtools.simulate import Gateway
from devtools.smsc_settings import sim_settings
from smpp.settings import sms_settings
from web.form_body import read_form

COOKIE = "vx_sim"  # double-submit CSRF: the form must repeat this cookie's value
CODE = "*119#"
TIMEOUT = aiohttp.ClientTimeout(total=10)
SMS_WAIT_SECONDS = 3.0
MAX_FORM_BYTES = 16384


@dataclass(frozen=True)
class SimulatorSettings:
    enabled: bool


def simulator_settings(config: Config) -> SimulatorSettings:
    return config.load("simulator", SimulatorSettings)


PAGE: web.AppKey[PhonePage] = web.AppKey("phone_page", PhonePage)


def _own_base(request: web.Request) -> str:
    """This server as the page's process reaches it: the address the browser connected to."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return f"{request.scheme}://{request.host}"
    host, port = sockname[0], sockname[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _respond(html: str, cookie: str, status: int = 200) -> web.Response:
    response = web.Response(
        text=html, status=status, content_type="text/html", headers={"Cache-Control": "no-store"}
    )
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict", path="/simulator")
    return response


async def show(request: web.Request) -> web.Response:
    page, cookie = request.app[PAGE], request.cookies.get(COOKIE) or secrets.token_urlsafe(16)
    handset = Handset(page.dialects[0], "6281200000001", "", (), "", True)
    return _respond(phone_view.render(page, handset, cookie, [], ""), cookie)


def _handset(page: PhonePage, form: Any) -> tuple[Handset, str]:
    """The handset the form describes, and what is wrong with it ("" when nothing)."""
    dialect = str(form.get("dialect", ""))
    phone = normalise_phone(str(form.get("phone", "")))
    inputs = tuple(line for line in str(form.get("inputs", "")).split("\n") if line)
    handset = Handset(
        dialect if dialect in page.dialects else page.dialects[0],
        phone.value if phone.ok else str(form.get("phone", ""))[:20],
        str(form.get("session", ""))[:64],
        inputs,
        str(form.get("screen", ""))[:2000],
        str(form.get("ended", "1")) == "1",
    )
    return handset, ("" if phone.ok else f"Phone number: {phone.reason}")


async def hop(request: web.Request, handset: Handset, answer: str | None) -> Handset:
    """Dial (``answer`` None) or answer one screen through the server's own dialect endpoint."""
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        gateway = Gateway(http, _own_base(request), handset.dialect, handset.phone, CODE)
        if answer is not None:
            gateway.session_id, gateway.inputs = handset.session_id, list(handset.inputs)
        try:
            end, text = await gateway.hop(answer)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            end, text = True, f"(no answer from the server: {exc or type(exc).__name__})"
    return Handset(
        handset.dialect, handset.phone, gateway.session_id, tuple(gateway.inputs), text, end
    )


async def _smsc(page: PhonePage, path: str, body: dict[str, str] | None = None) -> Any:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        if body is None:
            async with http.get(page.smsc_url + path) as resp:
                return await resp.json()
        async with http.post(page.smsc_url + path, json=body) as resp:
            data = await resp.json()
            if resp.status != 200:
                raise LookupError(data.get("error", f"HTTP {resp.status}"))
            return data


async def inbox(page: PhonePage, phone: str) -> list[tuple[str, str]]:
    """(sender, text) of every SMS the development SMSC delivered to ``phone``."""
    data = await _smsc(page, f"/messages?to={phone}")
    return [(str(s), str(m)) for s, m in zip(data["senders"], data["messages"], strict=True)]


async def send_sms(page: PhonePage, phone: str, text: str) -> list[tuple[str, str]]:
    """Text the service number; wait a moment for the reply; the inbox afterwards."""
    before = len(await inbox(page, phone))
    await _smsc(page, "/inject", {"from": phone, "to": page.service_number, "text": text})
    deadline = asyncio.get_running_loop().time() + SMS_WAIT_SECONDS
    messages = await inbox(page, phone)
    while len(messages) <= before and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        messages = await inbox(page, phone)
    return messages


async def act(request: web.Request) -> web.Response:
    page, cookie = request.app[PAGE], request.cookies.get(COOKIE, "")
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_FORM_BYTES, request.content_length or 0)
    form = await read_form(request, MAX_FORM_BYTES)  # chunked: None, unread
    if form is None or not cookie or not same_secret(str(form.get("csrf", "")), cookie):
        fresh = secrets.token_urlsafe(16)
        handset = Handset(page.dialects[0], "6281200000001", "", (), "", True)
        note = "That form had expired: try again."
        status = 400 if form is None else 403  # unreadable, or not sent from this page
        return _respond(phone_view.render(page, handset, fresh, [], note), fresh, status)
    handset, problem = _handset(page, form)
    action, note = str(form.get("do", "")), problem
    messages: list[tuple[str, str]] = []
    if not problem:
        handset, messages, note = await _do(request, page, handset, action, form)
    return _respond(phone_view.render(page, handset, cookie, messages, note), cookie)


async def _do(
    request: web.Request, page: PhonePage, handset: Handset, action: str, form: Any
) -> tuple[Handset, list[tuple[str, str]], str]:
    note = ""
    if action == "dial":
        handset = await hop(request, handset, None)
    elif action == "send" and not handset.ended:
        handset = await hop(request, handset, str(form.get("answer", "")).strip()[:160])
    elif action == "hangup":
        handset = replace(handset, ended=True, screen="(you hung up)")
    messages: list[tuple[str, str]] = []
    try:
        if action == "sms" and str(form.get("sms", "")).strip():
            messages = await send_sms(page, handset.phone, str(form.get("sms", "")).strip()[:480])
        else:
            messages = await inbox(page, handset.phone)
    except LookupError as exc:
        note = f"The development SMSC refused the SMS: {exc}"
    except (TimeoutError, aiohttp.ClientError, ValueError):
        note = "The development SMSC is not running, so no SMS (make run starts it)."
    return handset, messages, note


def setup(app: web.Application, config: Config, dialects: list[str]) -> None:
    """Add ``/simulator`` for the enabled ``dialects`` (call only when the page is enabled)."""
    sim = sim_settings(config)
    app[PAGE] = PhonePage(
        tuple(dialects) or ("json",),
        f"http://{sim.host}:{sim.control_port}",
        sms_settings(config).service_number,
    )
    app.router.add_get("/simulator", show)
    app.router.add_post("/simulator", act)


def paths() -> dict[str, Any]:
    """The page's part of the OpenAPI description."""
    html = {"text/html": {"schema": {"type": "string"}}}
    form = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "/simulator": {
            "get": {
                "summary": "a phone in the browser (development; [simulator] enabled)",
                "tags": ["development"],
                "responses": {"200": {"description": "the handset", "content": html}},
            },
            "post": {
                "summary": "dial, answer, hang up, send an SMS or read the phone's inbox",
                "tags": ["development"],
                "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": form}}},
                "responses": {
                    "200": {"description": "the handset after the action", "content": html},
                    "400": {"description": "the body is not a url-encoded form", "content": html},
                    "403": {"description": "the form's token is missing or stale", "content": html},
                },
            },
        }
    }
