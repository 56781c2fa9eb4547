"""The API description is complete, valid, and what the server really answers."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import jsonschema
import pytest
from aiohttp import web
from openapi_spec_validator import validate

from tests.conftest import make_test_config
from tests.test_operator_api import TOKEN, book_one, load
from tests.ussd_harness import PHONE, nik, running_server
from tests.whatsapp_harness import NUMBER_ID, SIM
from ussd_server.app import create_app
from ussd_server.console.audit import AuditLog
from ussd_server.keys import ShellKeys

_PATTERN = re.compile(r"\{(\w+)(:[^{}]*(\{[^{}]*\}[^{}]*)*)?\}")


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path in OpenAPI form) of every route, sub-applications included."""
    found = set()
    for resource in app.router.resources():
        sub = getattr(resource, "_app", None)
        if sub is not None:
            found |= served_routes(sub)  # its resources carry the prefix already
            continue
        path = _PATTERN.sub(r"{\1}", resource.canonical)
        for route in resource:
            if route.method != "HEAD":
                found.add((route.method.lower(), path))
    return found


def assert_described(app: web.Application) -> dict[str, Any]:
    document = _document(app)
    validate(document)
    described = {(m, p) for p, methods in document["paths"].items() for m in methods}
    missing = served_routes(app) - described
    assert not missing, f"routes without a description: {sorted(missing)}"
    assert not described - served_routes(app), "described routes the app does not serve"
    return document


def test_every_route_the_app_serves_is_described_and_the_document_is_valid(key_prefix) -> None:
    # Every edge on: the gateways (by default), the registration website and WhatsApp.
    overrides = {
        "web.enabled": True, "whatsapp.enabled": True, "whatsapp.phone_number_id": NUMBER_ID,
    }  # fmt: skip
    document = assert_described(create_app(make_test_config(key_prefix, environ=SIM, **overrides)))
    assert set(document["paths"]["/whatsapp/webhook"]) == {"get", "post"}


def test_an_edge_that_is_off_is_neither_served_nor_described(config) -> None:
    document = assert_described(create_app(config))
    assert "/whatsapp/webhook" not in document["paths"]  # the channel is off by default


def _document(app: web.Application) -> dict[str, Any]:
    from ussd_server.operator_api import DOCUMENT

    return app[DOCUMENT]


class Answers:
    """Checks answers against the description's schemas."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        answer = self.document["paths"][path][method]["responses"][str(status)]
        schema = answer["content"]["application/json"]["schema"]
        # The components ride along at the root, where "#/components/..." points.
        validator = jsonschema.Draft202012Validator(
            {**schema, "components": self.document["components"]}
        )
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, f"{method.upper()} {path} {status}: {errors[0].message}"


async def test_operator_answers_match_their_schemas(config, redis, key_prefix) -> None:
    app = create_app(config)
    answers = Answers(_document(app))
    async with running_server(config) as base, aiohttp.ClientSession(headers=TOKEN) as http:
        await load(http, base)
        code = await book_one(config, redis)

        async def call(method: str, path: str, url: str, **kw: Any) -> Any:
            async with http.request(method, base + url, **kw) as resp:
                body = await resp.json()
                answers.check(method, path, resp.status, body)
                return body

        await AuditLog(redis, ShellKeys(key_prefix), 10).record("siti.desk", "view", nik(1))
        [entry] = (await call("get", "/api/audit", "/api/audit"))["entries"]
        assert entry["nik_masked"] == "3273************" and entry["action"] == "view"
        await call("get", "/api/audit", "/api/audit?limit=0")  # 400
        await call("get", "/api/stats", "/api/stats")
        await call("get", "/api/facilities", "/api/facilities")
        await call("get", "/api/registrants", f"/api/registrants?phone={PHONE}")
        await call("get", "/api/registrants", f"/api/registrants?nik={nik(1)}&full_nik=true")
        await call("get", "/api/registrants", "/api/registrants")  # 400
        await call("get", "/api/tickets/{code}", f"/api/tickets/{code}")
        await call("get", "/api/tickets/{code}", "/api/tickets/NOSUCH22")  # 404
        ticket = await call("get", "/api/tickets/{code}", f"/api/tickets/{code}?full_nik=1")
        payload = {"payload": ticket["payload"], "facility_id": "F001"}  # a day early: wrong_day
        await call("post", "/api/check-in", "/api/check-in", json=payload)
        await call("post", "/api/check-in", "/api/check-in", json={"payload": 5})  # 400
        big = {"payload": "A" * 20_000, "facility_id": "F001"}  # over max_body_bytes
        await call("post", "/api/check-in", "/api/check-in", json=big)  # 413
        template = {"name": "c1", "template": "Halo {first_name}. Balas {keyword}."}
        await call("post", "/api/campaigns", "/api/campaigns", json=template)
        await call("get", "/api/campaigns", "/api/campaigns")
        await call("get", "/api/campaigns/{name}", "/api/campaigns/c1")
        await call("post", "/api/campaigns/{name}/{action}", "/api/campaigns/c1/pause")  # 409
        await call("post", "/api/campaigns/{name}/{action}", "/api/campaigns/c1/cancel")
        async with http.get(base + "/healthz") as resp:
            answers.check("get", "/healthz", resp.status, await resp.json())
        async with aiohttp.ClientSession() as stranger, stranger.get(base + "/api/stats") as resp:
            answers.check("get", "/api/stats", resp.status, await resp.json())  # 401


@pytest.mark.parametrize("public", [False, True])
async def test_the_description_needs_the_token_unless_made_public(key_prefix, public) -> None:
    from tests.conftest import make_test_config

    config = make_test_config(key_prefix, **{"operator_api.public_description": public})
    async with running_server(config) as base, aiohttp.ClientSession() as http:
        for path in ("/api/openapi.json", "/api/docs"):
            async with http.get(base + path) as resp:
                assert resp.status == (200 if public else 401)
        async with http.get(base + "/api/docs", headers=TOKEN) as resp:
            page = await resp.text()
    assert (
        "/api/check-in" in page and "<script" not in page and "http" not in page.split("<body>")[0]
    )


async def test_a_json_hop_built_from_the_description_gets_the_described_answer(config) -> None:
    """The description required only session_id, msisdn and service_code; such a hop got
    400 "field 'input' is missing". Input is required unless new_session is true."""
    document = _document(create_app(config))
    post = document["paths"]["/ussd/json"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    request = jsonschema.Draft202012Validator(schema)
    answers = Answers(document)
    base = {"session_id": "desc-1", "msisdn": PHONE, "service_code": "*119#"}
    bare = {name: base[name] for name in schema["required"]}
    assert not request.is_valid(bare), "the description lets a hop without input through"
    async with running_server(config) as url, aiohttp.ClientSession() as http:
        for body in ({**bare, "new_session": True}, {**bare, "input": "1"}, bare):
            async with http.post(f"{url}/ussd/json", json=body) as resp:
                reply = await resp.json()
            assert resp.status == (200 if request.is_valid(body) else 400), (body, reply)
            answers.check("post", "/ussd/json", resp.status, reply)
        assert "new_session" in reply["error"]
