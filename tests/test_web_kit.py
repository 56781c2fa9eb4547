"""The page kit, in a real browser on a phone-sized screen: labels, language, errors."""

from __future__ import annotations

from aiohttp import web

from tests.browser import browser, needs_chromium, phone_page, screenshot  # noqa: F401
from web import kit


def test_csrf_tokens_belong_to_one_session() -> None:
    csrf = kit.Csrf("secret")
    token = csrf.token("session-a")
    assert csrf.valid("session-a", token)
    assert not csrf.valid("session-b", token)
    assert not csrf.valid("session-a", "")
    assert not kit.Csrf("other").valid("session-a", token)


def test_text_is_escaped_everywhere() -> None:
    html = kit.text_input("nik", '<script>"x"</script>', value="<b>", error="<i>")
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html


@needs_chromium
async def test_a_kit_page_is_accessible_on_a_small_screen(phone_page) -> None:  # noqa: F811
    body = kit.form(
        "/x",
        "tok",
        kit.text_input("phone", "Nomor HP", error="Nomor tidak dikenal", kind="tel")
        + kit.radio_group("lang", "Bahasa", [("id", "Indonesia"), ("en", "English")]),
        kit.button("Lanjut"),
    )
    html = kit.page("Daftar vaksin", "id", body)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await phone_page.goto(f"http://127.0.0.1:{port}/")
        assert await phone_page.get_attribute("html", "lang") == "id"
        for input_id in await phone_page.eval_on_selector_all(
            "input:not([type=hidden])", "els => els.map(e => e.id)"
        ):
            assert await phone_page.locator(f"label[for={input_id}]").count() == 1, input_id
        alert = phone_page.get_by_role("alert")
        assert await alert.inner_text() == "Nomor tidak dikenal"
        assert await phone_page.get_attribute("#f-phone", "aria-describedby") == "f-phone-error"
        width = await phone_page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360  # nothing wider than the phone's screen
        await screenshot(phone_page, "kit-form")
    finally:
        await runner.cleanup()
