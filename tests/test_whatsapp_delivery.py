"""The WhatsApp channel's promises: signed webhooks only, answered once, every reply sent
once and in order through 429s, 5xx and a restart, the 24-hour window kept."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from core.config import ConfigError
from devtools import wa_webhooks
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_http_probes import raw_request
from tests.test_metrics import scrape, value
from tests.ussd_harness import PHONE
from tests.whatsapp_harness import (  # noqa: F401 (fixtures)
    NUMBER_ID,
    SIM,
    Server,
    WaPhone,
    WaSim,
    body,
    phone_fixture,
    server_fixture,
    sim_fixture,
)
from ussd_server.app import create_app


async def post(server: Server, data: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        url = f"{server.base}/whatsapp/webhook"
        async with http.post(url, data=data, headers=headers) as resp:
            return resp.status, await resp.text()


async def test_the_verification_handshake_echoes_the_challenge_only_for_our_token(
    server: Server,
) -> None:
    token = SIM["USSD_WHATSAPP_VERIFY_TOKEN"]
    async with aiohttp.ClientSession() as http:
        url = f"{server.base}/whatsapp/webhook"
        query = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
        async with http.get(url, params=query) as resp:
            assert (resp.status, await resp.text()) == (200, "1158201444")
        async with http.get(url, params={**query, "hub.verify_token": "guess"}) as resp:
            assert resp.status == 403
        async with http.get(url, params={**query, "hub.mode": "unsubscribe"}) as resp:
            assert resp.status == 403


async def test_a_badly_signed_notification_is_refused_and_never_answered(
    server: Server, phone: WaPhone
) -> None:
    incoming = wa_webhooks.message(PHONE, text="VAKSIN")
    notification = wa_webhooks.message_notification(NUMBER_ID, incoming)
    data, headers = wa_webhooks.signed("not-the-app-secret", notification)
    assert (await post(server, data, headers))[0] == 401
    assert (await post(server, data, {"Content-Type": "application/json"}))[0] == 401
    _, good = wa_webhooks.signed(SIM["USSD_WHATSAPP_APP_SECRET"], notification)
    assert (await post(server, data + b" ", good))[0] == 401  # the body was changed
    for junk in (b"sha256=\x80", b"sha256=\xc3\xa9", b"\xff"):  # not UTF-8, not ASCII
        head = (
            b"POST /whatsapp/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"X-Hub-Signature-256: %s\r\nContent-Length: %d\r\n\r\n" % (junk, len(data))
        )
        answer = await raw_request(server.base, head + data)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:120]
    assert await phone.settle() == []


async def test_a_signed_body_that_is_not_a_notification_gets_400_with_the_reason(
    server: Server,
) -> None:
    secret = SIM["USSD_WHATSAPP_APP_SECRET"]
    data, headers = wa_webhooks.signed(secret, {"object": "page", "entry": []})
    status, text = await post(server, data, headers)
    assert status == 400 and "whatsapp_business_account" in text


def notification(value: dict) -> dict:
    value = {"metadata": {"phone_number_id": NUMBER_ID}, **value}
    entry = {"changes": [{"field": "messages", "value": value}]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


def hostile_bodies() -> list[object]:
    odd_messages = [
        {"from": PHONE, "id": "x1", "type": "text", "text": "not an object"},
        {"from": PHONE, "id": "x2", "type": "interactive", "interactive": {"type": ["a"]}},
        {"from": PHONE, "id": "x3", "type": "interactive",
         "interactive": {"type": "button_reply", "button_reply": {"id": 7}}},
        {"from": "+62 812", "id": "x4", "type": "text", "text": {"body": "VAKSIN"}},
        {"from": PHONE, "id": ["x5"], "type": None},
        {"from": PHONE, "id": "x6", "type": "text", "text": {"body": "A" * 100_000}},
        "just a string",
    ]  # fmt: skip
    statuses = {"statuses": [{"id": "s", "status": ["read"]}, {"status": "read"}, 3]}
    return [
        [],
        {"object": "whatsapp_business_account", "entry": "x"},
        {"object": "whatsapp_business_account", "entry": [{"changes": {"a": 1}}]},
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]},
        {"object": "whatsapp_business_account", "entry": [None, 5]},
        *(notification({"messages": [m]}) for m in odd_messages),
        notification({"messages": "none"}),
        notification(statuses),
        {**notification(statuses), "entry": [{"changes": [{"field": "messages", "value": 3}]}]},
    ]


async def test_strange_signed_bodies_get_200_or_400_never_an_error(
    server: Server, phone: WaPhone
) -> None:
    secret = SIM["USSD_WHATSAPP_APP_SECRET"]
    for hostile in hostile_bodies():
        data, headers = wa_webhooks.signed(secret, hostile)
        status, text = await post(server, data, headers)
        assert status in (200, 400), (hostile, status, text)
    for reply in await phone.settle():  # odd messages from the phone get help, nothing else
        assert "VAKSIN" in body(reply), reply


async def test_a_body_over_the_limit_gets_413_before_anything_else(server: Server) -> None:
    data = b"{" + b" " * 1_100_000 + b"}"  # [whatsapp] max_body_bytes is 1 MiB
    status, text = await post(server, data, {"Content-Type": "application/json"})
    assert status == 413 and "1048576" in text


async def test_a_429_from_the_graph_api_delays_the_reply_but_sends_it_once(
    phone: WaPhone, sim: WaSim
) -> None:
    await sim.call("/control/config", {"fail": [429, 429, 503]})
    [question] = await phone.type("VAKSIN")
    assert "tenaga kesehatan" in body(question)
    assert (await sim.call("/control/stats"))["refused"] == 3
    assert await phone.settle() == []


async def test_a_restart_in_the_middle_of_sending_loses_nothing_and_repeats_nothing(
    phone: WaPhone, server: Server, sim: WaSim
) -> None:
    await phone.type("VAKSIN")
    await sim.call("/control/config", {"fail": [503] * 1000})  # the Graph API is down
    await sim.call("/control/inject", {"from": PHONE, "button": "hw_confirm.yes"})
    await sim.call("/control/inject", {"from": PHONE, "type": "audio"})
    for _ in range(100):  # until the sender has tried (and failed) at least once
        if (await sim.call("/control/stats"))["refused"]:
            break
        await asyncio.sleep(0.05)
    await server.stop()
    assert await phone.settle(0.3) == []
    await sim.call("/control/config", {"fail": []})  # the Graph API is back
    await server.start()
    ask, notice = (await sim.received(PHONE, phone.seen + 2))[phone.seen :]
    assert "6 digit terakhir NIK" in body(ask)  # in the order they were answered
    assert "Mohon balas dengan teks" in body(notice)
    phone.seen += 2
    assert await phone.settle() == []


async def test_delivery_statuses_are_recorded_per_message(
    phone: WaPhone, server: Server, redis, keys: AllKeys
) -> None:
    [question] = await phone.type("VAKSIN")
    for _ in range(100):
        if await redis.hget(keys.wa_statuses(PHONE), question["id"]) == "delivered":
            break
        await asyncio.sleep(0.05)
    assert await redis.hget(keys.wa_statuses(PHONE), question["id"]) == "delivered"
    # A "sent" arriving late (statuses come out of order) does not undo "delivered".
    late = wa_webhooks.status_notification(NUMBER_ID, question["id"], PHONE, "sent")
    data, headers = wa_webhooks.signed(SIM["USSD_WHATSAPP_APP_SECRET"], late)
    assert (await post(server, data, headers))[0] == 200
    await asyncio.sleep(0.3)
    assert await redis.hget(keys.wa_statuses(PHONE), question["id"]) == "delivered"


async def test_outside_the_24_hour_window_only_the_template_is_sent(phone: WaPhone) -> None:
    # Meta delivers (after a day of retries) a message written 25 hours ago.
    [template] = await phone.type("VAKSIN", timestamp=int(time.time()) - 25 * 3600)
    assert template["type"] == "template" and template["template"]["name"] == "vaksin_lanjut"
    [question] = await phone.type("VAKSIN")  # writing again opens the window again
    assert "tenaga kesehatan" in body(question)


def test_serve_refuses_to_start_with_the_channel_on_and_a_secret_missing(key_prefix) -> None:
    for missing in SIM:
        environ = {k: v for k, v in SIM.items() if k != missing}
        config = make_test_config(
            key_prefix, environ=environ,
            **{"whatsapp.enabled": True, "whatsapp.phone_number_id": NUMBER_ID},
        )  # fmt: skip
        with pytest.raises(ConfigError, match=missing):
            create_app(config)


def moved(before: dict, after: dict, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_metrics_count_messages_sends_retries_and_statuses(
    phone: WaPhone, server: Server, sim: WaSim
) -> None:
    async with aiohttp.ClientSession() as http:
        before = await scrape(http, server.base)
        await phone.type("VAKSIN", repeat=2)  # answered once, one duplicate
        await sim.call("/control/config", {"fail": [503]})
        await phone.tap("Ya")  # sent after one retry
        await phone.send_picture()
        for _ in range(100):  # until the three messages sent are reported delivered
            after = await scrape(http, server.base)
            if moved(before, after, "vaksin_whatsapp_statuses_total", status="delivered") >= 3:
                break
            await asyncio.sleep(0.05)
    counts = {
        ("messages", "answered"): 2, ("messages", "not_text"): 1, ("messages", "duplicate"): 1,
        ("sends", "sent"): 3, ("sends", "retry"): 1,
    }  # fmt: skip
    for (metric, outcome), count in counts.items():
        assert moved(before, after, f"vaksin_whatsapp_{metric}_total", outcome=outcome) == count
    assert moved(before, after, "vaksin_whatsapp_statuses_total", status="delivered") == 3
    assert moved(before, after, "vaksin_whatsapp_queued_seconds_count") == 3
