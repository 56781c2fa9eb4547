"""Who may call the gateway endpoints: nobody unless configured, and the start says so."""

from __future__ import annotations

import os
import subprocess
import sys

import aiohttp
import pytest

from core.config import ConfigError
from tests.conftest import make_test_config
from tests.redis_server import free_port
from tests.ussd_harness import PHONE, AtPhone, last6, load_registry, running_server
from ussd_server.app import create_app, startup_warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_ENV = {"USSD_USSD_DIALECTS_AFRICASTALKING_SECRET": "s3cret-from-the-gateway"}


def closed(prefix: str, environ: dict[str, str] | None = None):
    """Hubtel and JSON off, Africa's Talking behind a shared-secret header."""
    return make_test_config(
        prefix,
        environ=environ or SECRET_ENV,
        **{
            "ussd.allow_unauthenticated": False,
            "ussd.dialects.hubtel.enabled": False,
            "ussd.dialects.json.enabled": False,
            "ussd.dialects.africastalking.auth_header": "X-Gateway-Secret",
        },
    )


def test_an_open_dialect_stops_the_start_naming_it(key_prefix: str) -> None:
    config = make_test_config(key_prefix, **{"ussd.allow_unauthenticated": False})
    with pytest.raises(ConfigError, match="'africastalking' is enabled without authentication"):
        create_app(config)


def test_allowing_unauthenticated_callers_is_said_at_start(key_prefix: str) -> None:
    warnings = startup_warnings(make_test_config(key_prefix))
    assert any("allow_unauthenticated" in w for w in warnings)
    assert not any("allow_unauthenticated" in w for w in startup_warnings(closed(key_prefix)))


def test_an_empty_gateway_secret_stops_the_start(key_prefix: str) -> None:
    config = closed(key_prefix, environ={"USSD_USSD_DIALECTS_AFRICASTALKING_SECRET": "  "})
    with pytest.raises(ConfigError, match="empty"):
        create_app(config)


def test_serve_refuses_to_start_without_an_operator_token(key_prefix: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USSD_") or k == "USSD_CONFIG"}
    env.update(
        USSD_TICKETS_SIGNING_KEY="k",
        USSD_USSD_ALLOW_UNAUTHENTICATED="true",
        USSD_OPERATOR_API_TOKEN_FILE="/nonexistent/token",
        USSD_REDIS_KEY_PREFIX=key_prefix,
    )
    proc = subprocess.run(
        [sys.executable, "-m", "ussd_server", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "USSD_OPERATOR_API_TOKEN" in proc.stderr and "Traceback" not in proc.stderr


async def test_the_gateway_secret_is_required_on_every_hop(key_prefix, redis, keys) -> None:
    await load_registry(redis, keys)
    config = closed(key_prefix)
    good = {"X-Gateway-Secret": SECRET_ENV["USSD_USSD_DIALECTS_AFRICASTALKING_SECRET"]}
    async with running_server(config) as base:
        async with aiohttp.ClientSession(headers=good) as gateway:
            phone = AtPhone(gateway, base, PHONE, "owner-1")
            await phone.dial()
            await phone.send("1")
            await phone.send("1")
            assert "Lokasi vaksin" in await phone.send(last6(1))  # past the NIK check
        form = {"sessionId": "thief-1", "serviceCode": "*119#", "phoneNumber": "+" + PHONE}
        async with aiohttp.ClientSession() as stranger:
            for headers in ({}, {"X-Gateway-Secret": "guess"}):
                async with stranger.post(
                    f"{base}/ussd/africastalking", data={**form, "text": ""}, headers=headers
                ) as resp:
                    assert resp.status == 401
                    assert "Lanjutkan" not in await resp.text()
                async with stranger.post(
                    f"{base}/ussd/africastalking/events",
                    data={"sessionId": "owner-1", "status": "Failed", "phoneNumber": PHONE},
                    headers=headers,
                ) as resp:
                    assert resp.status == 401
            async with stranger.post(f"{base}/ussd/hubtel", json={}) as resp:
                assert resp.status == 404  # disabled dialects are not there at all
