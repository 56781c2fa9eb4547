"""Malformed gateway requests get 400 with a reason, and the server keeps serving; auth."""

from __future__ import annotations

import base64
import json

import aiohttp
import pytest

from tests.conftest import make_test_config
from tests.ussd_harness import PHONE, gateway_server, load_registry, running_server

AT = "/ussd/africastalking"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
GOOD_AT = f"sessionId=m1&serviceCode=*119%23&phoneNumber=%2B{PHONE}&text="
GOOD_JSON = {"session_id": "j1", "msisdn": PHONE, "service_code": "*119#", "new_session": True}

CASES = [
    # (name, path, content type, body, reason fragment)
    ("AT no sessionId", AT, FORM, f"serviceCode=*119%23&phoneNumber=%2B{PHONE}", "sessionId"),
    ("AT no phone", AT, FORM, "sessionId=a&serviceCode=*119%23&text=", "phoneNumber"),
    ("AT bad phone", AT, FORM, "sessionId=a&serviceCode=*119%23&phoneNumber=abc", "phoneNumber"),
    ("AT invalid UTF-8", AT, FORM, b"sessionId=\xff\xfe&serviceCode=1", "UTF-8"),
    ("AT JSON body", AT, JSON, json.dumps(GOOD_JSON), "content type"),
    ("AT too big", AT, FORM, GOOD_AT + "1" * 20000, "bytes"),
    ("hubtel not JSON", "/ussd/hubtel", JSON, "{Type: Initiation", "not JSON"),
    ("hubtel array", "/ussd/hubtel", JSON, "[1, 2]", "JSON object"),
    ("hubtel bad Type", "/ussd/hubtel", JSON, json.dumps({"Type": "Hello"}), "Type"),
    (
        "hubtel Sequence as text",
        "/ussd/hubtel",
        JSON,
        json.dumps({"Type": "Response", "Sequence": "2", "Message": "1"}),
        "Sequence",
    ),
    ("hubtel Type an object", "/ussd/hubtel", JSON, json.dumps({"Type": {}}), "Type"),
    ("hubtel Type a list", "/ussd/hubtel", JSON, json.dumps({"Type": ["Response"]}), "Type"),
    ("hubtel form", "/ussd/hubtel", FORM, GOOD_AT, "content type"),
    ("json missing msisdn", "/ussd/json", JSON, json.dumps({"session_id": "a"}), "msisdn"),
    (
        "json input not a string",
        "/ussd/json",
        JSON,
        json.dumps({**GOOD_JSON, "new_session": False, "input": 5}),
        "input",
    ),
    (
        "json new_session not bool",
        "/ussd/json",
        JSON,
        json.dumps({**GOOD_JSON, "new_session": "yes"}),
        "new_session",
    ),
    ("json hop negative", "/ussd/json", JSON, json.dumps({**GOOD_JSON, "hop": -1}), "hop"),
    ("json hop 10^30", "/ussd/json", JSON, json.dumps({**GOOD_JSON, "hop": 10**30}), "hop"),
    ("json hop of 5000 digits", "/ussd/json", JSON, '{"hop": ' + "7" * 5000 + "}", "JSON"),
    ("json nested 5000 deep", "/ussd/json", JSON, "[" * 5000, "nested"),
    ("hubtel nested 5000 deep", "/ussd/hubtel", JSON, "[" * 5000, "nested"),
    (
        "hubtel Sequence 10^40",
        "/ussd/hubtel",
        JSON,
        json.dumps({"Type": "Response", "Sequence": 10**40, "Message": "1"}),
        "Sequence",
    ),
    ("json empty body", "/ussd/json", JSON, "", "not JSON"),
]


@pytest.fixture(params=["main", "gateway"])
async def server(request, config, redis, keys):
    await load_registry(redis, keys)
    async with gateway_server(config, request.param) as base, aiohttp.ClientSession() as http:
        yield base, http


async def test_malformed_requests_get_400_with_reason_and_server_keeps_serving(server, caplog):
    base, http = server
    for name, path, ctype, body, reason in CASES:
        data = body.encode() if isinstance(body, str) else body
        async with http.post(base + path, data=data, headers={"Content-Type": ctype}) as resp:
            text = await resp.text()
            assert resp.status == 400, (name, resp.status, text)
            assert reason.lower() in text.lower(), (name, text)
            if path != AT:
                assert "error" in json.loads(text), name  # JSON dialects answer in JSON
    async with http.post(base + AT, data=GOOD_AT, headers={"Content-Type": FORM}) as resp:
        assert resp.status == 200 and (await resp.text()).startswith("CON ")
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]  # a 400, never a traceback


@pytest.fixture
async def guarded(key_prefix, redis, keys):
    config = make_test_config(
        key_prefix,
        **{
            "ussd.dialects.json.auth_header": "X-Gateway-Secret",
            "ussd.dialects.hubtel.basic_user": "hubtel",
            "ussd.dialects.africastalking.allow_cidrs": ["10.0.0.0/8"],
        },
    )
    environ = dict(config.environ)
    environ["USSD_USSD_DIALECTS_JSON_SECRET"] = "s3cret"
    environ["USSD_USSD_DIALECTS_HUBTEL_BASIC_PASSWORD"] = "pw"
    config.environ = environ
    await load_registry(redis, keys)
    async with running_server(config) as base, aiohttp.ClientSession() as http:
        yield base, http


async def test_authentication_per_dialect(guarded):
    base, http = guarded
    body = json.dumps(GOOD_JSON)
    headers = {"Content-Type": JSON}
    async with http.post(base + "/ussd/json", data=body, headers=headers) as resp:
        assert resp.status == 401 and "X-Gateway-Secret" in await resp.text()
    headers["X-Gateway-Secret"] = "s3cret"
    async with http.post(base + "/ussd/json", data=body, headers=headers) as resp:
        assert resp.status == 200
    hub = {"Type": "Initiation", "Message": "*119#", "Mobile": PHONE, "SessionId": "h"}
    async with http.post(base + "/ussd/hubtel", json=hub) as resp:
        assert resp.status == 401 and "basic" in await resp.text()
    auth = "Basic " + base64.b64encode(b"hubtel:pw").decode()
    async with http.post(base + "/ussd/hubtel", json=hub, headers={"Authorization": auth}) as resp:
        assert resp.status == 200
    async with http.post(base + AT, data=GOOD_AT, headers={"Content-Type": FORM}) as resp:
        assert resp.status == 403 and "not allowed" in await resp.text()
