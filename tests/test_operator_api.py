"""The operator HTTP API and public routes, over real HTTP against a running server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from core.config import Config, ConfigError
from registration.models import BookingOutcome
from registration.service import Registry
from tests.conftest import make_test_config
from tests.redis_server import needs_redis_server, own_redis
from tests.ussd_harness import PHONE, facility_lines, nik, running_server, worker_lines
from ussd_server.app import create_app

TOKEN = {"Authorization": "Bearer test-operator-token"}


@pytest.fixture(name="server")
async def server_fixture(config: Config, redis) -> AsyncIterator[str]:
    async with running_server(config) as base:
        yield base


@pytest.fixture(name="http")
async def http_fixture() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def upload(http: aiohttp.ClientSession, url: str, lines: list[str]) -> dict:
    body = ("\n".join(lines) + "\n").encode()
    headers = {**TOKEN, "Content-Type": "text/csv"}
    async with http.post(url, data=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def load(http: aiohttp.ClientSession, server: str) -> None:
    await upload(http, f"{server}/api/facilities", facility_lines())
    await upload(http, f"{server}/api/health-workers", worker_lines({1: PHONE}))


async def test_health_check_reports_redis(server: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server}/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["redis"] == "ok"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "x"}])
async def test_a_missing_or_wrong_token_gets_401_json(
    server: str, http: aiohttp.ClientSession, headers: dict
) -> None:
    async with http.get(f"{server}/api/stats", headers=headers) as resp:
        assert resp.status == 401
        assert "token" in (await resp.json())["error"]


async def test_csv_upload_reports_bad_rows_by_line_and_keeps_good_ones(
    server: str, http: aiohttp.ClientSession
) -> None:
    lines = [*facility_lines(extra=0), "F777,Puskesmas Rusak,Kota Bandung,Jl. Y,lots"]
    report = await upload(http, f"{server}/api/facilities", lines)
    assert report["rows_ok"] == len(lines) - 2 and report["rows_bad"] == 1
    [[line, reason]] = report["errors"]
    assert line == len(lines) and "capacity" in reason.lower()

    workers = [*worker_lines({1: PHONE}), f"{nik(5)},Budi,021555,dokter,F001"]
    report = await upload(http, f"{server}/api/health-workers", workers)
    assert (report["rows_ok"], report["rows_bad"]) == (1, 1)
    assert report["errors"][0][0] == 3

    async with http.get(f"{server}/api/facilities", headers=TOKEN) as resp:
        facilities = (await resp.json())["facilities"]
    by_id = {f["facility_id"]: f for f in facilities}
    assert "F777" not in by_id and by_id["F001"]["daily_capacity"] == 100


async def test_csv_upload_that_is_not_utf8_or_empty_gets_400(
    server: str, http: aiohttp.ClientSession
) -> None:
    headers = {**TOKEN, "Content-Type": "text/csv"}
    async with http.post(f"{server}/api/facilities", data=b"\xff\xfe\x00bad", headers=headers) as r:
        assert r.status == 400 and "UTF-8" in (await r.json())["error"]
    async with http.post(f"{server}/api/facilities", data=b"", headers=headers) as r:
        assert r.status == 400 and "empty" in (await r.json())["error"]
    await upload(http, f"{server}/api/facilities", facility_lines())
    # UTF-16, Latin-1, and one bad byte after 5,000 good rows: 400 naming the line, nothing in.
    good = "\n".join(worker_lines({1000 + i: f"62813{i:08d}" for i in range(5001)})) + "\n"
    bodies = {
        1: "\n".join(worker_lines({1: PHONE})).encode("utf-16"),
        3: (
            "\n".join(worker_lines({1: PHONE})) + "\n3273010101900002,Andr\xe9,0812,x,F001\n"
        ).encode("latin-1"),
        5003: good.encode() + b"3273010101900002,Andr\xe9,081299990000,bidan,F001\n",
    }
    for line, body in bodies.items():
        url = f"{server}/api/health-workers"
        async with http.post(url, data=body, headers=headers) as r:
            error = (await r.json())["error"]
            assert r.status == 400 and f"line {line}: " in error and "UTF-8" in error, error
    async with http.get(f"{server}/api/stats", headers=TOKEN) as r:
        assert (await r.json())["workers_listed"] == 0


async def test_a_field_over_128_kib_is_a_bad_row_not_a_500(
    server: str, http: aiohttp.ClientSession
) -> None:
    await upload(http, f"{server}/api/facilities", facility_lines())
    lines = worker_lines({1: PHONE, 2: "6281200000002"})
    lines.insert(2, f'3273010101900009,"{"x" * 140_000}",081200000009,bidan,F001')
    report = await upload(http, f"{server}/api/health-workers", lines)
    assert (report["rows_ok"], report["rows_bad"]) == (2, 1)
    [[line, reason]] = report["errors"]
    assert line == 3 and "longer than 131072 characters" in reason


async def test_multipart_upload_is_accepted(server: str, http: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("file", "\n".join(facility_lines(extra=0)), filename="faskes.csv")
    async with http.post(f"{server}/api/facilities", data=form, headers=TOKEN) as resp:
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["rows_ok"] == len(facility_lines(extra=0)) - 1


async def book_one(config: Config, redis) -> str:
    registry = Registry.from_config(config, redis)
    answers = {group.group_id: False for group in registry.screening_groups()}
    await registry.record_screening(nik(1), answers)
    slot = next(s for s in await registry.available_slots("F001") if s.seats_left)
    result = await registry.book(nik(1), "F001", slot.day, slot.session_id)
    assert result.outcome is BookingOutcome.BOOKED and result.ticket
    return result.ticket.code


async def test_ticket_image_check_in_and_status(
    http: aiohttp.ClientSession, key_prefix: str, redis
) -> None:
    # The ticket is for tomorrow (the first time free); this site lets a day either side in.
    config = make_test_config(key_prefix, **{"registration.check_in_tolerance_days": 1})
    async with running_server(config) as server:
        await _ticket_image_check_in_and_status(server, http, config, redis)


async def _ticket_image_check_in_and_status(
    server: str, http: aiohttp.ClientSession, config: Config, redis
) -> None:
    await load(http, server)
    code = await book_one(config, redis)

    async with http.get(f"{server}/tickets/{code}.png") as resp:
        assert resp.status == 200 and resp.content_type == "image/png"
        assert (await resp.read()).startswith(b"\x89PNG")
    async with http.get(f"{server}/tickets/{code}.svg") as resp:
        assert resp.status == 200 and b"<svg" in await resp.read()
    async with http.get(f"{server}/tickets/NOSUCH22.png") as resp:
        assert resp.status == 404
    async with http.get(f"{server}/tickets/{code}.png") as resp:
        assert "no-store" in resp.headers["Cache-Control"]  # revocable: never cached publicly

    async with http.get(f"{server}/api/tickets/{code}", headers=TOKEN) as resp:
        ticket = await resp.json()
    assert ticket["code"] == code and ticket["state"] == "active"

    forged = ticket["payload"][:-2] + ("AA" if not ticket["payload"].endswith("AA") else "BB")
    outcomes = []
    for payload, site in [(forged, "F001"), (ticket["payload"], "F002")] + 2 * [
        (ticket["payload"], "F001")
    ]:
        body = {"payload": payload, "facility_id": site}
        async with http.post(f"{server}/api/check-in", json=body, headers=TOKEN) as resp:
            outcomes.append((await resp.json())["outcome"])
    assert outcomes == ["forged", "wrong_facility", "valid", "already_used"]
    async with http.get(f"{server}/tickets/{code}.png") as resp:
        assert resp.status == 404  # a used ticket's QR is not served any more

    async with http.get(
        f"{server}/api/registrants", params={"phone": "0" + PHONE[2:]}, headers=TOKEN
    ) as resp:
        [status] = (await resp.json())["registrants"]
    assert status["ticket"]["code"] == code and status["dose2_due"]

    async with http.get(f"{server}/api/stats", headers=TOKEN) as resp:
        stats = await resp.json()
    assert stats, "statistics are empty after a booking and a check-in"


async def test_bad_check_in_and_status_requests_get_reasons(
    server: str, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{server}/api/check-in", data=b"{oops", headers=TOKEN) as resp:
        assert resp.status == 400 and "JSON" in (await resp.json())["error"]
    async with http.post(f"{server}/api/check-in", json={"payload": 7}, headers=TOKEN) as resp:
        assert resp.status == 400 and "payload" in (await resp.json())["error"]
    for body in ({"payload": "ABCD2345"}, {"payload": "ABCD2345", "facility_id": "F\u00d801"}):
        async with http.post(f"{server}/api/check-in", json=body, headers=TOKEN) as resp:
            assert resp.status == 400 and "facility_id" in (await resp.json())["error"]
    for payload in ("VX1.ÄÖÜ.F001", "tiket saya 🎫", "VX1." + "A" * 5000):
        body = {"payload": payload, "facility_id": "F001"}
        async with http.post(f"{server}/api/check-in", json=body, headers=TOKEN) as resp:
            assert resp.status == 400 and "ASCII" in (await resp.json())["error"]
    async with http.get(f"{server}/api/registrants", headers=TOKEN) as resp:
        assert resp.status == 400
    async with http.get(
        f"{server}/api/registrants", params={"phone": "021-555"}, headers=TOKEN
    ) as resp:
        assert resp.status == 400 and "phone" in (await resp.json())["error"]


@needs_redis_server
async def test_health_check_fails_when_redis_is_gone_and_the_server_keeps_serving(
    key_prefix: str, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    server = own_redis(tmp_path)
    try:
        config = make_test_config(key_prefix, **{"redis.url": server.url})
        async with running_server(config) as base:
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
            server.stop()
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 503
                assert (await resp.json())["status"] == "error"
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 503  # still answering, not crashed
    finally:
        server.stop()


async def test_niks_are_masked_unless_asked_for_and_the_asking_is_logged(
    server: str, http: aiohttp.ClientSession, config: Config, redis, caplog
) -> None:
    await load(http, server)
    code = await book_one(config, redis)
    lookups = [
        ("/api/registrants", {"nik": nik(1)}),
        ("/api/registrants", {"phone": PHONE}),
        (f"/api/tickets/{code}", {}),
    ]
    for path, params in lookups:
        async with http.get(f"{server}{path}", params=params, headers=TOKEN) as resp:
            text = await resp.text()
        assert nik(1) not in text and nik(1)[:4] + "*" * 12 in text, path
    with caplog.at_level(logging.INFO, logger="ussd_server.operator_api"):
        async with http.get(
            f"{server}/api/registrants",
            params={"nik": nik(1), "full_nik": "true"},
            headers=TOKEN,
        ) as resp:
            [status] = (await resp.json())["registrants"]
    assert status["worker"]["nik"] == nik(1)
    asked = [r.getMessage() for r in caplog.records if "full NIKs" in r.getMessage()]
    assert asked and "operator operator asked" in asked[0] and nik(1) not in asked[0]


async def test_each_token_holder_is_named_and_a_short_token_refused(
    key_prefix: str, http: aiohttp.ClientSession, caplog
) -> None:
    tokens = "helpdesk-ani:ani-token-0123456789\nops-team:ops-token-0123456789\n"
    config = make_test_config(key_prefix, environ={"USSD_OPERATOR_API_TOKEN": tokens})
    async with running_server(config) as base:
        with caplog.at_level(logging.INFO, logger="ussd_server.operator_api"):
            for token, status in (("ani-token-0123456789", 200), ("test-operator-token", 401)):
                headers = {"Authorization": f"Bearer {token}"}
                async with http.get(
                    f"{base}/api/registrants",
                    params={"phone": PHONE, "full_nik": "1"},
                    headers=headers,
                ) as resp:
                    assert resp.status == status
    assert any("operator helpdesk-ani asked" in r.getMessage() for r in caplog.records)
    async with running_server(config) as base:
        with caplog.at_level(logging.INFO, logger="ussd_server.operator_api"):
            for typed in ("0812-0000-0001", "+62 812 0000 0001"):  # no digit run to redact
                headers = {"Authorization": "Bearer ani-token-0123456789"}
                params = {"phone": typed, "full_nik": "1"}
                url = f"{base}/api/registrants"
                async with http.get(url, params=params, headers=headers) as resp:
                    assert resp.status == 200
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "0000-0001" not in logged and "0000 0001" not in logged and "0000%20" not in logged
    short = make_test_config(key_prefix, environ={"USSD_OPERATOR_API_TOKEN": "abc"})
    with pytest.raises(ConfigError, match="16 characters"):
        create_app(short)
