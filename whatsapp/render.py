"""Screens as WhatsApp messages: reply buttons, lists paged by 10 rows, plain text.

- yes/no and menus of at most 3 short options: reply buttons (ids = option keys);
- longer menus, facilities and schedules: a list message; a list longer than 9
  entries is paged, 8 entries a page plus "More" (``98``) and "Back" (``0``) rows;
- input questions and final screens: text (links previewed);
- a screen whose long form shows the ticket's QR link gets the QR as an image first
  (its caption the ticket code), and the link line is left out of the text.

Titles longer than a row or button allows are cut at a word; the rest of the label
becomes the row's description. :class:`WhatsAppLayout` is the dialogue's
:class:`~dialogue.model.Layout` for this channel (paging by the same rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dialogue.menus import Menus
from dialogue.model import BACK, NEXT_PAGE, Choice, View, ViewKind
from whatsapp import limits

Message = dict[str, Any]  # one Graph API message without "to" and "messaging_product"
ROWS_ALONE = limits.LIST_ROWS - 1  # one page: every entry and "Back"
ROWS_PAGED = limits.LIST_ROWS - 2  # a page of many: entries, "More" and "Back"
_SPACES = re.compile(r"\s+")


def list_pages(count: int) -> int:
    return 1 if count <= ROWS_ALONE else -(-count // ROWS_PAGED)


def _page_bounds(count: int, page: int) -> tuple[int, int, bool]:
    """(start, end, more) of the entries shown on `page`."""
    if count <= ROWS_ALONE:
        return 0, count, False
    page = max(0, min(page, list_pages(count) - 1))
    start = page * ROWS_PAGED
    end = min(start + ROWS_PAGED, count)
    return start, end, end < count


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_label(label: str, limit: int) -> tuple[str, str]:
    """(title within `limit`, the rest): cut at the last space that keeps half the room."""
    label = label.strip()
    if len(label) <= limit:
        return label, ""
    space = label.rfind(" ", 0, limit + 1)
    if space >= limit // 2:
        return label[:space].rstrip(), label[space + 1 :].strip()
    return label[: limit - 1] + "…", "…" + label[limit - 1 :]


def fold(text: str) -> str:
    """A title as a user might type it: case, spacing and a trailing dot do not matter."""
    return _SPACES.sub(" ", text.replace("…", " ")).strip().rstrip(".").casefold()


def text_message(body: str) -> Message:
    body = clip(body, limits.TEXT_BODY)
    return {"type": "text", "text": {"body": body, "preview_url": "http" in body}}


def image_message(link: str, caption: str) -> Message:
    return {"type": "image", "image": {"link": link, "caption": clip(caption, limits.CAPTION)}}


def template_message(name: str, language: str) -> Message:
    return {"type": "template", "template": {"name": name, "language": {"code": language}}}


@dataclass(slots=True)
class Rendered:
    """What to send for one screen, and the titles a user may type instead of tapping."""

    messages: list[Message] = field(default_factory=list)
    choices: dict[str, str] = field(default_factory=dict)  # fold(title) -> key


def _head(view: View) -> str:
    return f"{view.error}\n{view.body}" if view.error else view.body


def _interactive(kind: str, body: str, action: dict[str, Any]) -> Message:
    text = clip(body, limits.INTERACTIVE_BODY)
    interactive = {"type": kind, "body": {"text": text}, "action": action}
    return {"type": "interactive", "interactive": interactive}


def _row(key: str, label: str) -> dict[str, str]:
    title, rest = split_label(label, limits.ROW_TITLE)
    row = {"id": key, "title": title}
    if rest:
        row["description"] = clip(rest, limits.ROW_DESCRIPTION)
    return row


def _list(view: View, menus: Menus, head: str, rows: list[dict[str, str]], page: str) -> Message:
    section: dict[str, Any] = {"rows": rows}
    if page:
        section["title"] = page
    label = clip(menus.text("wa_choose", view.lang), limits.LIST_BUTTON)
    return _interactive("list", head, {"button": label, "sections": [section]})


def _choices(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """fold(title) -> key, leaving out titles two entries share (a typed one must be clear)."""
    folded = [(fold(title), key) for title, key in pairs]
    keys_of: dict[str, set[str]] = {}
    for title, key in folded:
        keys_of.setdefault(title, set()).add(key)
    return {title: key for title, key in folded if title and len(keys_of[title]) == 1}


def _options(view: View, menus: Menus, head: str, out: Rendered) -> None:
    options: tuple[Choice, ...] = view.options[: limits.LIST_ROWS]
    fits = all(len(label) <= limits.BUTTON_TITLE for _, label in options)
    if 1 <= len(options) <= limits.MAX_BUTTONS and fits:
        buttons = [{"type": "reply", "reply": {"id": k, "title": label}} for k, label in options]
        out.messages.append(_interactive("button", head, {"buttons": buttons}))
        out.choices = _choices([(label, key) for key, label in options])
        return
    rows = [_row(key, label) for key, label in options]
    out.messages.append(_list(view, menus, head, rows, ""))
    pairs = [(label, key) for key, label in options] + [(r["title"], r["id"]) for r in rows]
    out.choices = _choices(pairs)


def _items(view: View, menus: Menus, head: str, out: Rendered) -> None:
    count = len(view.items)
    start, end, more = _page_bounds(count, view.page)
    shown = list(view.items[start:end])
    if more:
        shown.append((NEXT_PAGE, menus.text("more", view.lang)))
    shown.append((BACK, menus.text("back", view.lang)))
    rows = [_row(key, label) for key, label in shown]
    pages = list_pages(count)
    page = f"{start // ROWS_PAGED + 1}/{pages}" if pages > 1 else ""
    out.messages.append(_list(view, menus, head, rows, page))
    pairs = [(label, key) for key, label in shown] + [(r["title"], r["id"]) for r in rows]
    out.choices = _choices(pairs)


def render(view: View, menus: Menus) -> Rendered:
    """One screen as the messages to send, in order."""
    out = Rendered()
    head = _head(view)
    if view.qr_link and view.qr_link in head:
        lines = [line for line in head.split("\n") if view.qr_link not in line]
        head = "\n".join(lines)
        out.messages.append(image_message(view.qr_link, view.ticket_code))
    if view.kind is ViewKind.LIST and view.items:
        _items(view, menus, head, out)
    elif view.kind in (ViewKind.MENU, ViewKind.YESNO) and view.options:
        _options(view, menus, head, out)
    else:
        out.messages.append(text_message(head))
    return out


@dataclass(frozen=True, slots=True)
class WhatsAppLayout:
    """The dialogue's layout for WhatsApp: long texts with links, lists paged by rows."""

    long_form: bool = True  # links to the QR image and the video fit (and preview)

    def pages(self, view: View) -> int:
        return list_pages(len(view.items)) if view.kind is ViewKind.LIST else 1

    def text(self, view: View) -> str:
        """The screen's text (the messages themselves come from :func:`render`)."""
        return _head(view)
