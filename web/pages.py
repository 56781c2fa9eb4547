"""The site's pages around the dialogue: the shell, the phone form, the code form, notices.

Every page carries the language switch (a small form: it changes the session, so it
is a POST with its CSRF token) and answers with headers that keep it private and
forbid anything the page does not need (no scripts at all, no framing).
"""

from __future__ import annotations

from aiohttp import web

from dialogue.menus import LANGUAGES
from web import kit
from web.texts import WebTexts

# No script may run, nothing is fetched from elsewhere, forms post only here.
HEADERS = {
    "Cache-Control": "no-store, private",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
STYLE = (
    "legend,label{white-space:pre-line}.switch{text-align:right}.switch form{background:none;"
    "box-shadow:none;padding:0}.switch button{font-size:.9rem;padding:.35rem .7rem;margin:0}"
    "fieldset div{display:flex;flex-wrap:wrap}.ticket{background:#fff;border-radius:.5rem;"
    "padding:1rem;margin:0 0 1rem;box-shadow:0 1px 2px #0002}.ticket h2{font-size:1.1rem}"
    ".actions{display:flex;flex-wrap:wrap;gap:.5rem}.actions form{background:none;"
    "box-shadow:none;padding:0}"
)


def other_language(lang: str) -> str:
    return next((other for other in LANGUAGES if other != lang), lang)


def document(texts: WebTexts, lang: str, token: str, main: str) -> str:
    """A whole page: header, the language switch, then `main` (trusted HTML)."""
    other = other_language(lang)
    button = kit.button(texts.get("other_language", lang), name="lang", value=other, secondary=True)
    switch = f'<div class="switch">{kit.form("/daftar/lang", token, "", button)}</div>'
    title = texts.get("title", lang)
    body = switch + f"<h1>{kit.esc(title)}</h1>" + main
    return kit.page(title, lang, body, heading=texts.get("brand", lang), style=STYLE)


def respond(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", headers=HEADERS)


def phone_form(texts: WebTexts, lang: str, token: str, *, error: str = "", typed: str = "") -> str:
    field = kit.text_input(
        "phone",
        texts.get("phone_label", lang),
        value=typed,
        error=error,
        kind="tel",
        inputmode="tel",
        autocomplete="tel",
    )
    intro = f"<p>{kit.esc(texts.get('phone_intro', lang))}</p>"
    return intro + kit.form("/daftar/phone", token, field, kit.button(texts.get("send_code", lang)))


def code_form(
    texts: WebTexts, lang: str, token: str, *, phone: str, minutes: int, error: str = ""
) -> str:
    intro = texts.get("code_intro", lang, phone=phone, minutes=minutes)
    field = kit.text_input(
        "code",
        texts.get("code_label", lang),
        error=error,
        inputmode="numeric",
        autocomplete="one-time-code",
    )
    buttons = (
        kit.button(texts.get("next", lang))
        + kit.button(texts.get("resend_code", lang), name="do", value="resend", secondary=True)
        + kit.button(texts.get("change_phone", lang), name="do", value="change", secondary=True)
    )
    return f'<p role="status">{kit.esc(intro)}</p>' + kit.form(
        "/daftar/code", token, field, buttons
    )


def notice(texts: WebTexts, lang: str, key: str, **values: object) -> str:
    return f'<p class="notice" role="alert">{kit.esc(texts.get(key, lang, **values))}</p>'
