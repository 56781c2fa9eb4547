"""HTML of the phone in the browser: the handset's screen, its keypad form, SMS and inbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from devtools.simulate import screen_lines
from web import kit

SCREEN_STYLE = (
    "border:12px solid #222;border-radius:1.2rem;background:#dfe9d8;padding:.6rem;"
    "max-width:19rem;min-height:10rem;margin:.5rem 0"
)
NAMES = {"africastalking": "Africa's Talking", "hubtel": "Hubtel", "json": "plain JSON"}


@dataclass(frozen=True)
class PhonePage:
    dialects: tuple[str, ...]  # the server's enabled USSD dialects
    smsc_url: str  # the development SMSC's control port
    service_number: str


@dataclass(frozen=True)
class Handset:
    dialect: str
    phone: str
    session_id: str  # the gateway's session id ("" before dialling)
    inputs: tuple[str, ...]  # answers sent in this session
    screen: str  # the last screen shown
    ended: bool  # no session running (idle, ended, hung up)


def _hidden(handset: Handset) -> str:
    values = {
        "dialect": handset.dialect,
        "phone": handset.phone,
        "session": handset.session_id,
        "inputs": "\n".join(handset.inputs),
        "screen": handset.screen,
        "ended": "1" if handset.ended else "0",
    }
    return "".join(
        f'<input type="hidden" name="{name}" value="{kit.esc(value)}">'
        for name, value in values.items()
    )


def _screen(handset: Handset) -> str:
    text = "\n".join(screen_lines(handset.screen)) if handset.screen else "Dial *119# to start."
    state = "session ended" if handset.ended and handset.screen else "reply below"
    return (
        f'<div style="{SCREEN_STYLE}"><pre id="screen" role="status" aria-live="polite" '
        'style="white-space:pre-wrap;overflow-wrap:anywhere;font:14px/1.35 monospace;margin:0">'
        f"{kit.esc(text)}</pre></div><p><small>({state})</small></p>"
    )


def _dial_fields(page: PhonePage, handset: Handset) -> str:
    choices = "".join(
        f'<label for="d-{name}"><input type="radio" id="d-{name}" name="dialect" value="{name}"'
        f"{' checked' if name == handset.dialect else ''}>{kit.esc(NAMES.get(name, name))}</label>"
        for name in page.dialects
    )
    return f"<fieldset><legend>Gateway dialect</legend>{choices}</fieldset>" + kit.text_input(
        "phone", "Phone number", value=handset.phone, kind="tel", inputmode="tel"
    )


def _handset_form(page: PhonePage, handset: Handset, token: str) -> str:
    if handset.ended:
        dial = kit.button("Dial *119#", name="do", value="dial")
        return kit.form("/simulator", token, _dial_fields(page, handset), dial)
    answer = kit.text_input("answer", "Your answer", inputmode="numeric")
    sent = ", ".join(handset.inputs) or "nothing yet"
    fields = (
        _hidden(handset) + f"<p>{kit.esc(NAMES.get(handset.dialect, handset.dialect))}, "
        f"{kit.esc(handset.phone)}; sent: {kit.esc(sent)}</p>" + answer
    )
    buttons = kit.button("Send", name="do", value="send") + kit.button(
        "Hang up", name="do", value="hangup", secondary=True
    )
    return kit.form("/simulator", token, fields, buttons)


def _sms_form(
    page: PhonePage, handset: Handset, token: str, messages: Sequence[tuple[str, str]]
) -> str:
    inbox = (
        "".join(
            f"<li><small>from {kit.esc(sender)}</small><br>{kit.esc(text)}</li>"
            for sender, text in messages
        )
        or "<li>No SMS yet.</li>"
    )
    fields = (
        _hidden(handset)
        + f"<h2>SMS to {kit.esc(page.service_number)}</h2>"
        + kit.text_input("sms", "Message (e.g. VAKSIN, CEK, BATAL)")
    )
    buttons = kit.button("Send SMS", name="do", value="sms") + kit.button(
        "Check the inbox", name="do", value="inbox", secondary=True
    )
    return (
        kit.form("/simulator", token, fields, buttons)
        + f"<h2>Inbox of {kit.esc(handset.phone)}</h2>"
        + f'<ol id="inbox" style="overflow-wrap:anywhere">{inbox}</ol>'
    )


def render(
    page: PhonePage,
    handset: Handset,
    token: str,
    messages: Sequence[tuple[str, str]],
    note: str,
) -> str:
    alert = f'<p class="notice" role="alert">{kit.esc(note)}</p>' if note else ""
    body = (
        "<h1>Phone simulator</h1><p>Dials this server's USSD gateways over HTTP, as a gateway "
        "would; SMS go through the development SMSC.</p>"
        + alert
        + _screen(handset)
        + _handset_form(page, handset, token)
        + "<p></p>"
        + _sms_form(page, handset, token, messages)
    )
    return kit.page("Phone simulator", "en", body, heading="Vaksin development")
