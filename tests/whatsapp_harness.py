"""Test support for the WhatsApp tests: the development Graph API as a real process, the
server on a free port pointed at it, and a phone that talks to the server through it.

The phone's messages go as signed webhooks from the development Graph API to the
server over HTTP; the server's answers go back over HTTP to the development Graph
API, where the phone reads them. Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from core.config import Config
from devtools.wa_sim_process import WaSimProcess
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.ussd_harness import PHONE, load_registry

SIM = {  # what [wa_sim] plays, handed to the server as `make run` does
    "USSD_WHATSAPP_ACCESS_TOKEN": "dev-whatsapp-access-token",
    "USSD_WHATSAPP_APP_SECRET": "dev-whatsapp-app-secret",
    "USSD_WHATSAPP_VERIFY_TOKEN": "dev-whatsapp-verify-token",
}
NUMBER_ID = "100000000000001"
# An approved template for a closed 24-hour window (configured in every test server).
TEMPLATE = {"whatsapp.template_name": "vaksin_lanjut", "whatsapp.template_language": "id"}


class WaSim(WaSimProcess):
    """The development Graph API, its control endpoints spoken to asynchronously."""

    async def call(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with aiohttp.ClientSession() as http:
            method = http.get if body is None else http.post
            async with method(self.url + path, json=body) as resp:
                assert resp.status == 200, await resp.text()
                return await resp.json()

    async def received(self, phone: str, count: int = 0, timeout: float = 10) -> list[dict]:
        query = f"/control/wait?to={phone}&count={count}&timeout={timeout}"
        return (await self.call(query))["messages"]


def whatsapp_config(prefix: str, sim: WaSim, **overrides: object) -> Config:
    settings: dict[str, object] = {
        "whatsapp.enabled": True,
        "whatsapp.graph_base_url": sim.graph_base_url,
        "whatsapp.phone_number_id": NUMBER_ID,
        "whatsapp.retry_min_seconds": 0.05,
        "whatsapp.retry_max_seconds": 0.4,
        **overrides,
    }
    return make_test_config(prefix, environ=SIM, **settings)


@dataclass
class Server:
    """The whole server (webhook, inbox consumer, sender) on a free port; restartable."""

    config: Config
    sim: WaSim
    runner: web.AppRunner | None = None
    base: str = ""

    async def start(self) -> None:
        from ussd_server.app import create_app

        self.runner = web.AppRunner(create_app(self.config), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        await self.sim.call("/control/config", {"webhook_url": f"{self.base}/whatsapp/webhook"})

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@contextlib.asynccontextmanager
async def whatsapp_server(config: Config, sim: WaSim) -> AsyncIterator[Server]:
    server = Server(config, sim)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator[WaSim]:
    """The development Graph API, posting sent/delivered statuses back as WhatsApp does."""
    process = WaSim.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(name="server")
async def server_fixture(
    sim: WaSim, redis, keys: AllKeys, key_prefix: str
) -> AsyncIterator[Server]:
    """The registry of tests/ussd_harness.py and the server, pointed at `sim`."""
    await load_registry(redis, keys)
    async with whatsapp_server(whatsapp_config(key_prefix, sim, **TEMPLATE), sim) as running:
        yield running


@pytest.fixture(name="phone")
def phone_fixture(sim: WaSim, server: Server) -> WaPhone:
    return WaPhone(sim, PHONE)


@dataclass
class WaPhone:
    """A health worker on WhatsApp: types, taps buttons, picks rows, reads what arrives."""

    sim: WaSim
    msisdn: str
    seen: int = 0
    last: list[dict] = field(default_factory=list)

    async def _send(self, body: dict[str, Any], replies: int) -> list[dict]:
        answer = await self.sim.call("/control/inject", {"from": self.msisdn, **body})
        assert all(status == 200 for status in answer["webhook_statuses"]), answer
        messages = await self.sim.received(self.msisdn, self.seen + replies)
        if replies:
            assert len(messages) >= self.seen + replies, f"no reply to {body}: {messages}"
        self.last, self.seen = messages[self.seen :], len(messages)
        return self.last

    async def type(self, text: str, *, replies: int = 1, **extra: Any) -> list[dict]:
        return await self._send({"text": text, **extra}, replies)

    async def tap(self, title: str, *, replies: int = 1) -> list[dict]:
        """Tap the button or list row with this title in the last message shown."""
        return await self._send(self._choice(title), replies)

    async def press(self, button_id: str, *, replies: int = 1) -> list[dict]:
        """A button reply carrying ``button_id``, whatever the last message offered."""
        return await self._send({"button": button_id}, replies)

    async def send_picture(self) -> list[dict]:
        return await self._send({"type": "image"}, 1)

    def _choice(self, title: str) -> dict[str, str]:
        action = self.last[-1]["interactive"]["action"]
        for button in action.get("buttons", []):
            if button["reply"]["title"] == title:
                return {"button": button["reply"]["id"]}
        for row in action["sections"][0]["rows"]:
            if row["title"] == title:
                return {"list": row["id"]}
        raise AssertionError(f"no {title!r} in {action}")

    async def settle(self, seconds: float = 0.5) -> list[dict]:
        """Whatever else arrives within `seconds` (nothing, when all is well)."""
        await asyncio.sleep(seconds)
        messages = await self.sim.received(self.msisdn)
        extra, self.seen = messages[self.seen :], len(messages)
        return extra


def body(message: dict) -> str:
    """The text a message shows: a text body, an interactive body or an image caption."""
    kind = message["type"]
    if kind == "text":
        return message["text"]["body"]
    if kind == "image":
        return message["image"].get("caption", "")
    return message["interactive"]["body"]["text"]


def titles(message: dict) -> list[str]:
    action = message["interactive"]["action"]
    if "buttons" in action:
        return [b["reply"]["title"] for b in action["buttons"]]
    return [row["title"] for section in action["sections"] for row in section["rows"]]
