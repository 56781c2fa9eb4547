"""The few pieces every server-rendered page shares: the page, escaping, forms, CSRF.

Pages work without JavaScript and without anything fetched from elsewhere (the
service may run without internet): the style is inline and small, every input has
a label, the page has a language, an error is announced next to its field
(``role="alert"``), and a form carries a CSRF token bound to the browser's session.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from collections.abc import Iterable, Sequence

from core.secret_compare import same_secret

STYLE = """
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,sans-serif;color:#1b1b1b;
background:#f6f7f9}main{max-width:32rem;margin:0 auto;padding:1rem}header{background:#0b6e4f;
color:#fff;padding:.6rem 1rem;display:flex;justify-content:space-between;align-items:center}
header a{color:#fff}h1{font-size:1.25rem;margin:.2rem 0 1rem}p{margin:.5rem 0}
form{background:#fff;border-radius:.5rem;padding:1rem;box-shadow:0 1px 2px #0002}
fieldset{border:0;padding:0;margin:0 0 1rem}legend{font-weight:600;margin-bottom:.5rem}
label{display:block;margin:.35rem 0}input[type=text],input[type=tel],input[type=password]{
width:100%;font-size:1.1rem;padding:.55rem;border:1px solid #888;border-radius:.35rem}
input[type=radio]{width:1.2rem;height:1.2rem;vertical-align:-.2rem;margin-right:.4rem}
button{font-size:1.05rem;padding:.6rem 1.1rem;border:0;border-radius:.35rem;background:#0b6e4f;
color:#fff;margin:.25rem .4rem .25rem 0}button.secondary{background:#5a6570}
.error{color:#b00020;font-weight:600}.notice{background:#fff8e1;padding:.6rem;border-radius:.35rem}
table{border-collapse:collapse;width:100%;background:#fff}td,th{padding:.35rem .5rem;
border-bottom:1px solid #ddd;text-align:left}nav a{margin-right:.8rem}
.ticket{text-align:center}.ticket svg{width:14rem;height:14rem}.code{font:700 1.6rem monospace}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def page(
    title: str,
    lang: str,
    body: str,
    *,
    header_links: Sequence[tuple[str, str]] = (),
    heading: str = "",
    style: str = "",
) -> str:
    """A whole HTML document; ``body`` is trusted HTML built with the helpers below.

    ``style``: a page family's own CSS, after the kit's (trusted, never user text).
    """
    links = "".join(f'<a href="{esc(href)}">{esc(label)}</a> ' for href, label in header_links)
    return (
        f'<!doctype html><html lang="{esc(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}{style}</style></head><body>"
        f"<header><strong>{esc(heading or title)}</strong><nav>{links}</nav></header>"
        f"<main>{body}</main></body></html>"
    )


def field_error(field_id: str, message: str) -> str:
    """An error shown (and announced) right next to its field."""
    if not message:
        return ""
    return f'<p class="error" id="{esc(field_id)}-error" role="alert">{esc(message)}</p>'


def text_input(
    name: str,
    label: str,
    *,
    value: str = "",
    error: str = "",
    kind: str = "text",
    inputmode: str = "",
    autocomplete: str = "off",
) -> str:
    field_id = f"f-{name}"
    described = f' aria-describedby="{field_id}-error" aria-invalid="true"' if error else ""
    mode = f' inputmode="{esc(inputmode)}"' if inputmode else ""
    return (
        f'<label for="{field_id}">{esc(label)}</label>'
        f'<input type="{esc(kind)}" id="{field_id}" name="{esc(name)}" value="{esc(value)}"'
        f' autocomplete="{esc(autocomplete)}"{mode}{described}>'
        f"{field_error(field_id, error)}"
    )


def radio_group(
    name: str, legend: str, choices: Iterable[tuple[str, str]], *, error: str = ""
) -> str:
    """One choice out of (value, label) pairs, each with its own label."""
    field_id = f"f-{name}"
    items = []
    for index, (value, label) in enumerate(choices):
        item_id = f"{field_id}-{index}"
        checked = " checked" if index == 0 and not error else ""
        items.append(
            f'<label for="{item_id}"><input type="radio" id="{item_id}" name="{esc(name)}"'
            f' value="{esc(value)}"{checked}>{esc(label)}</label>'
        )
    described = f' aria-describedby="{field_id}-error"' if error else ""
    return (
        f'<fieldset id="{field_id}"{described}><legend>{esc(legend)}</legend>'
        f"{field_error(field_id, error)}{''.join(items)}</fieldset>"
    )


def form(action: str, csrf_token: str, content: str, buttons: str) -> str:
    return (
        f'<form method="post" action="{esc(action)}">'
        f'<input type="hidden" name="csrf" value="{esc(csrf_token)}">'
        f"{content}<div>{buttons}</div></form>"
    )


def button(label: str, *, name: str = "", value: str = "", secondary: bool = False) -> str:
    named = f' name="{esc(name)}" value="{esc(value)}"' if name else ""
    cls = ' class="secondary"' if secondary else ""
    return f'<button type="submit"{named}{cls}>{esc(label)}</button>'


class Csrf:
    """Tokens bound to a browser session id: HMAC(secret, session id), checked in
    constant time. A form posted from another site has no way to know it."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("csrf:" + secret).encode()).digest()

    def token(self, session_id: str) -> str:
        # A session id comes from a cookie: surrogatepass encodes whatever bytes it held.
        raw = session_id.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, raw, hashlib.sha256).hexdigest()[:32]

    def valid(self, session_id: str, token: str) -> bool:
        return bool(session_id) and same_secret(token, self.token(session_id))
