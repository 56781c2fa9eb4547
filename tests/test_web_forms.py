"""The website's forms over plain HTTP: CSRF, code limits and expiry, repeated forms, privacy.

A real server (website on, no SMS channel: the codes wait in the outbox, where the
test reads them as the SMS channel would).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.web_client import FormClient
from dialogue.menus import MenuError
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.ussd_harness import PHONE, last6, load_registry, nik, running_server
from web.texts import load_texts

OTHER_PHONE = "6281200000900"
ROOT = Path(__file__).resolve().parent.parent


async def outbox(redis, keys: AllKeys, kind: str, phone: str = PHONE) -> list[str]:
    entries = await redis.xrange(keys.sms_outbox())
    return [f["text"] for _, f in entries if f["kind"] == kind and f["to"] == phone]


async def last_code(redis, keys: AllKeys, phone: str = PHONE) -> str:
    return re.search(r"\b(\d{6})\b", (await outbox(redis, keys, "otp", phone))[-1]).group(1)


@contextlib.asynccontextmanager
async def client(key_prefix: str, **overrides: object) -> AsyncIterator[FormClient]:
    config = make_test_config(key_prefix, **{"web.enabled": True, **overrides})
    async with running_server(config) as base, FormClient.session() as http:
        visitor = FormClient(http, base)
        await visitor.get()
        yield visitor


@pytest.fixture
async def registry(redis, keys: AllKeys) -> None:
    await load_registry(redis, keys)


async def sign_in(visitor: FormClient, redis, keys: AllKeys, phone: str = PHONE) -> None:
    assert await visitor.post("/daftar/phone", phone=phone) == 303
    assert await visitor.post("/daftar/code", code=await last_code(redis, keys, phone)) == 303
    assert "6 digit terakhir NIK" in visitor.page


async def test_a_form_without_its_token_is_refused_and_changes_nothing(
    registry, redis, keys, key_prefix
) -> None:
    async with client(key_prefix) as visitor, client(key_prefix) as stranger:
        assert await visitor.post("/daftar/phone", token=False, phone=PHONE) == 403
        assert "tidak berlaku" in visitor.page
        # Another browser's token is no good either.
        assert await visitor.post("/daftar/phone", csrf=stranger.token, phone=PHONE) == 403
        assert await outbox(redis, keys, "otp") == []  # no code was sent
        await visitor.get()
        assert 'name="phone"' in visitor.page
        await sign_in(visitor, redis, keys)
        status = await visitor.post("/daftar/answer", token=False, text=last6(1))
        assert status == 403
        await visitor.get()
        assert "6 digit terakhir NIK" in visitor.page  # the answer was not applied
        # A hop that cannot be read ("²" passes isdigit(), int() refuses it; none at all)
        # answers the last hop again: nothing is applied, however often it is sent.
        for hop in ("²", "", "-1", "²"):
            assert await visitor.post("/daftar/answer", text="000000", hop=hop) == 303
            assert "6 digit terakhir NIK" in visitor.page and "Sisa" not in visitor.page
        assert await visitor.post("/daftar/answer", text=last6(1)) == 303
        assert "Lokasi vaksin" in visitor.page


async def test_codes_are_limited_per_phone_and_per_client_address(
    registry, redis, keys, key_prefix
) -> None:
    async with client(key_prefix, **{"web.codes_per_client": 4}) as visitor:
        assert await visitor.post("/daftar/phone", phone=PHONE) == 303
        for _ in range(2):
            assert await visitor.post("/daftar/code", do="resend") == 303
        assert await visitor.post("/daftar/code", do="resend") == 429
        assert "Coba lagi dalam 15 menit" in visitor.page
        assert 840 < int(visitor.retry_after) <= 900  # the same wait, for programs
        assert len(await outbox(redis, keys, "otp")) == 3  # [web] codes_per_phone
        assert await visitor.post("/daftar/code", do="change") == 303
        assert await visitor.post("/daftar/phone", phone=OTHER_PHONE) == 429  # 5th from here
        assert "jaringan Anda" in visitor.page
        assert f'value="{OTHER_PHONE}"' in visitor.page  # a valid number is kept to retry
        assert await outbox(redis, keys, "otp", OTHER_PHONE) == []


async def test_nik_digits_typed_as_the_phone_are_not_shown_back(registry, key_prefix) -> None:
    """A refused phone came back in its field (value="3273..."): NIK digits on a page."""
    async with client(key_prefix) as visitor:
        for typed in (nik(1), last6(1), f"NIK {nik(1)}", f" {last6(1)} "):
            assert await visitor.post("/daftar/phone", phone=typed) == 400
            assert "tidak valid" in visitor.page and 'name="phone" value=""' in visitor.page
            assert last6(1) not in visitor.page, typed


async def test_a_code_is_good_for_its_lifetime_only(registry, redis, keys, key_prefix) -> None:
    async with client(key_prefix, **{"web.code_ttl_seconds": 1}) as visitor:
        assert await visitor.post("/daftar/phone", phone=PHONE) == 303
        code = await last_code(redis, keys)
        await asyncio.sleep(1.5)
        assert await visitor.post("/daftar/code", code=code) == 400
        assert "Kode sudah tidak berlaku" in visitor.page
        assert await visitor.post("/daftar/code", code="12 34") == 400
        assert "6 angka" in visitor.page


async def test_a_form_sent_twice_is_answered_once(registry, redis, keys, key_prefix) -> None:
    async with client(key_prefix) as visitor:
        await sign_in(visitor, redis, keys)
        await visitor.post("/daftar/answer", text=last6(1))
        await visitor.post("/daftar/answer", choice="worker_confirm.1")
        while "screening." in visitor.page:
            await visitor.post("/daftar/answer", choice=visitor.choices()[1])  # "no"
        first_page = visitor.page
        await visitor.post("/daftar/answer", nav="98")
        visitor.page = first_page  # the same form again (a double tap, a reload)
        await visitor.post("/daftar/answer", nav="98")
        assert "Halaman 2 dari 3" in visitor.page  # one page on, not two
        await visitor.post("/daftar/answer", choice=visitor.choices()[0])
        confirm = visitor.page
        await visitor.post("/daftar/answer", choice="confirm.1")
        visitor.page = confirm
        await visitor.post("/daftar/answer", choice="confirm.1")
        assert "Terdaftar!" in visitor.page
        assert len(await outbox(redis, keys, "ticket")) == 1


async def test_a_phone_form_sent_twice_sends_one_code(registry, redis, keys, key_prefix) -> None:
    """A double click or a re-post keeps the code on its way: a second one would void it
    (SMS can arrive out of order) and use up one of the phone's sends."""
    async with client(key_prefix) as visitor, client(key_prefix) as other:
        form = visitor.page
        assert await visitor.post("/daftar/phone", phone=PHONE) == 303
        visitor.page = form  # the same form again
        assert await visitor.post("/daftar/phone", phone=PHONE) == 303
        both = await asyncio.gather(  # a double click: two posts at once
            other.post("/daftar/phone", phone=OTHER_PHONE),
            other.post("/daftar/phone", phone=OTHER_PHONE),
        )
        assert both == [303, 303]
        assert len(await outbox(redis, keys, "otp")) == 1
        assert len(await outbox(redis, keys, "otp", OTHER_PHONE)) == 1
        assert await visitor.post("/daftar/code", code=await last_code(redis, keys)) == 303
        assert "6 digit terakhir NIK" in visitor.page  # the one code sent works
        assert await other.post("/daftar/code", do="resend") == 303  # asked for: sent
        assert len(await outbox(redis, keys, "otp", OTHER_PHONE)) == 2


async def test_a_visitor_who_only_looks_around_keeps_nothing_in_redis(
    registry, redis, keys, key_prefix
) -> None:
    """Before a phone is given the language switch lives in a cookie: any number of
    visitors clicking it cost Redis nothing, and the choice carries into the session."""
    async with client(key_prefix) as visitor:
        for lang in ("en", "id", "en"):
            assert await visitor.post("/daftar/lang", lang=lang) == 303
        assert 'lang="en"' in visitor.page and "Mobile number" in visitor.page
        assert [k async for k in redis.scan_iter(match=f"{key_prefix}:web:*")] == []
        assert await visitor.post("/daftar/phone", phone=PHONE) == 303
        assert await visitor.post("/daftar/code", code=await last_code(redis, keys)) == 303
        assert "last 6 digits of your NIK" in visitor.page
        assert "Your vaccine registration code" in (await outbox(redis, keys, "otp"))[0]


async def test_nothing_personal_in_addresses_or_logs(registry, redis, keys, key_prefix, caplog):
    caplog.set_level(logging.INFO)
    async with client(key_prefix) as visitor:
        await sign_in(visitor, redis, keys)
        await visitor.post("/daftar/answer", text=last6(1))
        actions = set(re.findall(r'action="([^"]*)"', visitor.page))
        assert actions <= {"/daftar/answer", "/daftar/lang", "/daftar/logout"}
        code = await last_code(redis, keys)
        assert await redis.hgetall(keys.web_code(PHONE)) == {}  # used: gone
        await visitor.post("/daftar/logout")
        await visitor.post("/daftar/phone", phone=PHONE)
        stored = await redis.hgetall(keys.web_code(PHONE))
        assert stored and await last_code(redis, keys) not in str(stored)  # an HMAC only
        async with visitor.http.get(visitor.base + "/daftar") as response:
            cookie = response.headers.get("Set-Cookie", "")
            assert cookie == "" and "no-store" in response.headers["Cache-Control"]
            assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "62812*****001" in caplog.text  # the site did log, masked
    assert PHONE not in caplog.text and PHONE[2:] not in caplog.text
    assert code not in caplog.text and last6(1) not in caplog.text


async def test_the_session_cookie_is_http_only_and_strict(registry, key_prefix) -> None:
    config = make_test_config(key_prefix, **{"web.enabled": True})
    async with (
        running_server(config) as base,
        FormClient.session() as http,
        http.get(base + "/daftar") as response,
    ):
        cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/daftar" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    behind_tls_proxy = make_test_config(
        key_prefix, **{"web.enabled": True, "web.secure_cookie": True}
    )
    async with (
        running_server(behind_tls_proxy) as base,
        FormClient.session() as http,
        http.get(base + "/daftar") as response,
    ):
        assert "Secure" in response.headers["Set-Cookie"]


def test_the_site_does_not_start_without_its_secret(key_prefix, tmp_path) -> None:
    from core.config import ConfigError, load_config
    from ussd_server.app import create_app

    environ = {"USSD_TICKETS_SIGNING_KEY": "k", "USSD_OPERATOR_API_TOKEN": "t" * 20}
    settings = {"web.enabled": True, "web.csrf_secret_file": str(tmp_path / "absent")}
    settings["ussd.allow_unauthenticated"] = True
    with pytest.raises(ConfigError, match=r"secret web\.csrf_secret is not set"):
        create_app(
            load_config(environ=environ, overrides={**settings, "redis.key_prefix": key_prefix})
        )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a certificate")
async def test_over_https_the_cookie_is_secure(registry, key_prefix, tmp_path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    config = make_test_config(key_prefix, **{"web.enabled": True})
    async with (
        running_server(config, tls=tls) as base,
        FormClient.session() as http,
        http.get(base + "/daftar", ssl=False) as response,
    ):
        cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


async def test_bad_forms_get_an_answer_not_an_error(registry, redis, keys, key_prefix) -> None:
    async with client(key_prefix) as visitor:
        async with visitor.http.post(
            visitor.base + "/daftar/phone", json={"phone": PHONE}
        ) as response:
            assert response.status == 400
        big = {"csrf": visitor.token, "phone": "0" * 20_000}
        async with visitor.http.post(visitor.base + "/daftar/phone", data=big) as response:
            assert response.status == 400
        assert await visitor.post("/daftar/phone", phone="021 555 1234") == 400
        assert "tidak valid" in visitor.page and 'role="alert"' in visitor.page
        assert await visitor.post("/daftar/answer", text="123456") == 200
        assert "sudah berakhir" in visitor.page  # no phone proven yet: start there


def test_the_site_texts_are_checked_at_start(tmp_path) -> None:
    shipped = ROOT / "menus" / "web.toml"
    load_texts(shipped)
    text = shipped.read_text(encoding="utf-8")
    for old, new, message in [
        ('en = "Send code"', 'fr = "Envoyer"', "texts.send_code needs id and en"),
        ("otp_sms = {", "otp_sms_old = {", "missing text.s.: otp_sms"),
    ]:
        broken = tmp_path / "web.toml"
        broken.write_text(text.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(MenuError, match=message):
            load_texts(broken)
