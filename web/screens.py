"""A dialogue screen (:class:`dialogue.model.View`) as one page's form.

Menus and list rows are radio buttons (``choice`` = the option's key), yes/no
questions two buttons, inputs a labelled text field (``text``); navigation
buttons send the dialogue's own keys (``0`` back, ``98`` more, ``00`` main
menu). Errors appear next to their field and are announced. The QR image link
of the long form texts is never shown: the ticket card draws the QR itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dialogue.model import BACK, MAIN_MENU, NEXT_PAGE, View, ViewKind
from web import kit
from web.layout import WebLayout
from web.texts import WebTexts

ANSWER = "/daftar/answer"
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True, slots=True)
class Form:
    """What every form of a page carries: the CSRF token and the hop it answers."""

    token: str
    hop: int


def shown_lines(view: View, card: bool) -> list[str]:
    """The body's lines for the page: no QR link; no video line when the card has it."""
    lines = []
    for line in view.body.split("\n"):
        if view.qr_link and view.qr_link in line:
            continue
        if card and view.video_link and view.video_link in line:
            continue
        lines.append(line)
    return lines


def linked(text: str) -> str:
    """Escaped text with its web addresses as links."""
    out, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;)")
        out.append(kit.esc(text[last : match.start()]))
        out.append(f'<a href="{kit.esc(url)}">{kit.esc(url)}</a>')
        last = match.start() + len(url)
    out.append(kit.esc(text[last:]))
    return "".join(out)


def _nav(texts: WebTexts, lang: str, *, more: bool = False) -> str:
    buttons = [kit.button(texts.get("more", lang), name="nav", value=NEXT_PAGE)] if more else []
    buttons.append(kit.button(texts.get("back", lang), name="nav", value=BACK, secondary=True))
    buttons.append(
        kit.button(texts.get("main_menu", lang), name="nav", value=MAIN_MENU, secondary=True)
    )
    return "".join(buttons)


def _answer_form(form: Form, content: str, buttons: str) -> str:
    hop = f'<input type="hidden" name="hop" value="{form.hop}">'
    return kit.form(ANSWER, form.token, hop + content, buttons)


def _yes_no(view: View, question: str) -> str:
    described = ' aria-describedby="f-choice-error"' if view.error else ""
    answers = "".join(kit.button(label, name="choice", value=key) for key, label in view.options)
    return (
        f'<fieldset id="f-choice"{described}><legend>{kit.esc(question)}</legend>'
        f"{kit.field_error('f-choice', view.error)}<div>{answers}</div></fieldset>"
    )


def _list(view: View, question: str, layout: WebLayout, texts: WebTexts) -> tuple[str, bool]:
    start, end = layout.rows(view)
    pages = layout.pages(view)
    if pages > 1:
        page = texts.get("page_of", view.lang, page=start // layout.page_size + 1, pages=pages)
        question = f"{question}\n{page}"
    rows = [(key, label) for key, label in view.items[start:end]]
    return kit.radio_group("choice", question, rows, error=view.error), end < len(view.items)


def screen_form(view: View, form: Form, layout: WebLayout, texts: WebTexts, card: str) -> str:
    """The screen's text, its ticket card (if any) and the form that answers it."""
    lang, question = view.lang, "\n".join(shown_lines(view, bool(card)))
    go = kit.button(texts.get("next", lang))
    if view.kind is ViewKind.END:
        paragraphs = "".join(f"<p>{linked(line)}</p>" for line in question.split("\n") if line)
        again = kit.button(texts.get("start_again", lang), name="start", value="1")
        leave = kit.button(texts.get("log_out", lang), secondary=True)
        forms = _answer_form(form, "", again) + kit.form("/daftar/logout", form.token, "", leave)
        return f'<div role="status">{paragraphs}</div>{card}<div class="actions">{forms}</div>'
    if view.kind is ViewKind.INPUT:
        numeric = "\\d" in view.input_pattern
        field = kit.text_input(
            "text", question, error=view.error, inputmode="numeric" if numeric else ""
        )
        return card + _answer_form(form, field, go + _nav(texts, lang))
    if view.kind is ViewKind.YESNO:
        return card + _answer_form(form, _yes_no(view, question), _nav(texts, lang))
    if view.kind is ViewKind.LIST:
        group, more = _list(view, question, layout, texts)
        return card + _answer_form(form, group, go + _nav(texts, lang, more=more))
    group = kit.radio_group(
        "choice", question, [(k, lb) for k, lb in view.options], error=view.error
    )
    return card + _answer_form(form, group, go + _nav(texts, lang))
