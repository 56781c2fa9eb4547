"""Test support for the dialogue/USSD tests: a small registry, a running server, a phone.

Everything is real: the registry is imported through `registration.redis_import`
into the test's own key prefix, the server listens on a free port, and phones
talk HTTP to it exactly as a gateway would.
"""

from __future__ import annotations

import contextlib
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp

from core.config import Config
from core.redis_client import connect
from core.settings import redis_settings
from registration import redis_import
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.redis_server import free_port

LONG_FACILITY = (
    "Rumah Sakit Umum Daerah Dr. Hasan Sadikin Unit Pelayanan Vaksinasi Tenaga Kesehatan"
    " Kota Bandung Barat Daya"
)
PHONE = "6281200000001"
HOUSEHOLD = "6281200000002"


def nik(serial: int) -> str:
    """A structurally valid NIK (Kota Bandung, born 01-01-1990) ending in 90 + serial."""
    return f"3273010101 90{serial:04d}".replace(" ", "")


def last6(serial: int) -> str:
    return nik(serial)[-6:]


def facility_lines(extra: int = 12) -> list[str]:
    lines = ["facility_id,name,regency,address,daily_capacity"]
    lines.append("F001,Puskesmas Coblong,Kota Bandung,Jl. Ir. H. Juanda 1,100")
    lines.append(f'F002,"{LONG_FACILITY}",Kota Bandung,Jl. Pasteur 38,9999')
    for i in range(extra):
        lines.append(f"F1{i:02d},Klinik Pratama Sehat Sentosa {i:02d},Kota Bandung,Jl. X {i},50")
    lines.append("F900,Puskesmas Tebet,Kota Jakarta Selatan,Jl. Tebet 1,2")
    return lines


def worker_lines(phones: dict[int, str]) -> list[str]:
    lines = ["nik,full_name,phone,profession,facility_id"]
    for serial, phone in phones.items():
        facility = "F900" if serial == 900 else "F001"
        lines.append(f"{nik(serial)},Siti Nurhaliza Putri {serial},{phone},perawat,{facility}")
    return lines


def default_phones() -> dict[int, str]:
    phones = {1: PHONE, 2: HOUSEHOLD, 3: HOUSEHOLD, 900: "6281200000900"}
    for i in range(100):
        phones[1000 + i] = f"62813{i:08d}"
    return phones


async def load_registry(redis, keys: AllKeys, phones: dict[int, str] | None = None) -> None:
    report = await redis_import.import_facilities(redis, keys, facility_lines())
    assert report.rows_bad == 0, report.errors
    report = await redis_import.import_health_workers(
        redis, keys, worker_lines(phones or default_phones())
    )
    assert report.rows_bad == 0, report.errors


async def config_on_loaded_redis(redis_url: str, prefix: str, **overrides: object) -> Config:
    """The test config on the Redis at ``redis_url`` (a test's own server), the registry
    loaded into it."""
    config = make_test_config(prefix, **{"redis.url": redis_url, **overrides})
    client = connect(redis_settings(config))
    await load_registry(client, AllKeys(prefix))
    await client.aclose()
    return config


@contextlib.asynccontextmanager
async def running_server(
    config: Config, *, sms: bool = False, tls: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """The server on a free port; `sms=True` runs its SMS channel too (`[smpp] enabled`),
    `tls` serves https."""
    from ussd_server.app import create_app
    from ussd_server.http_guard import guard_limits, make_runner, serve

    runner = make_runner(create_app(config, sms=sms), config)
    await runner.setup()
    server, guard = await serve(runner, "127.0.0.1", 0, guard_limits(config), ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.close()
        guard.stop()
        await runner.cleanup()


@contextlib.asynccontextmanager
async def gateway_server(config: Config, listener: str) -> AsyncIterator[str]:
    """The server, and the base URL its gateways are served on: the main port, or the lean
    gateway listener on a port of its own (``[ussd] gateway_port``)."""
    if listener == "main":
        async with running_server(config) as base:
            yield base
        return
    port = free_port()
    config.tree["ussd"]["gateway_port"] = port
    async with running_server(config):
        yield f"http://127.0.0.1:{port}"


@dataclass
class AtPhone:
    """A handset behind Africa's Talking: cumulative `text`, replies CON/END."""

    http: aiohttp.ClientSession
    base: str
    msisdn: str
    session_id: str
    inputs: list[str] = field(default_factory=list)
    screens: list[str] = field(default_factory=list)
    ended: bool = False

    async def post(self, text: str) -> tuple[bool, str]:
        form = {
            "sessionId": self.session_id,
            "serviceCode": "*119#",
            "phoneNumber": "+" + self.msisdn,
            "networkCode": "51010",
            "text": text,
        }
        async with self.http.post(f"{self.base}/ussd/africastalking", data=form) as resp:
            body = await resp.text()
            assert resp.status == 200, body
        assert body.startswith(("CON ", "END ")), body
        return body.startswith("END "), body[4:]

    async def dial(self) -> str:
        self.inputs = []
        self.ended, screen = await self.post("")
        self.screens.append(screen)
        return screen

    async def send(self, value: str) -> str:
        self.inputs.append(value)
        end, screen = await self.post("*".join(self.inputs))
        self.ended = end
        self.screens.append(screen)
        return screen

    async def resend_last(self) -> str:
        """The gateway retransmits the last hop (same cumulative text)."""
        return (await self.post("*".join(self.inputs)))[1]


async def json_hop(http, base, session_id, msisdn, value="", new=False, hop=None) -> dict:
    body = {
        "session_id": session_id,
        "msisdn": msisdn,
        "service_code": "*119#",
        "input": value,
        "new_session": new,
    }
    if hop is not None:
        body["hop"] = hop
    async with http.post(
        f"{base}/ussd/json", data=json.dumps(body), headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()
