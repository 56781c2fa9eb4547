"""Turning a screen into text for a handset: USSD lines or SMS reply instructions.

The engine builds one :class:`View` per screen; :func:`render_ussd` shows options
as ``N. Label`` within the gateway's septet limit (dynamic lists are paged to
fit, ``98`` next page, ``0`` back); :func:`render_sms` shows the same dialogue as
"Balas N untuk Label" lines, without a length limit (the SMS channel splits).
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogue.gsm import clip, septets, to_gsm
from dialogue.menus import Menus

NEXT_PAGE = "98"
BACK = "0"
MAIN_MENU = "00"


@dataclass(slots=True)
class View:
    kind: str  # menu | yesno | input | list | end
    body: str
    options: list[str]  # labels of a static menu, numbered from 1
    items: list[str] | None = None  # labels of a dynamic list (numbered globally from 1)
    page: int = 0
    error: str = ""  # shown above the screen after a wrong answer


class _Vars(dict):
    """Format variables: an unknown {name} renders empty instead of raising."""

    def __missing__(self, key: str) -> str:
        return ""


def fill(template: str, values: dict[str, str]) -> str:
    if "{" not in template:
        return template
    return template.format_map(_Vars(values))


def list_pages(header: str, items: list[str], room: int, more: str, back: str) -> list[int]:
    """Start index of every page: as many `N. label` lines as fit under `room` septets."""
    base = septets(header) + septets(back) + 5  # header, "\n0. Back"
    more_cost = septets(more) + 5  # "\n98. More"
    lines = [septets(item) + len(str(n)) + 3 for n, item in enumerate(items, 1)]  # "\nN. "
    starts: list[int] = []
    count, i = len(items), 0
    while i < count:
        starts.append(i)
        used, j = base, i
        while j < count:
            reserve = more_cost if j + 1 < count else 0
            if used + lines[j] + reserve > room and j > i:
                break
            used += lines[j]
            j += 1
        i = j
    return starts or [0]


def render_ussd(view: View, menus: Menus, lang: str, limit: int) -> str:
    """The screen as USSD text: body, numbered options, navigation; within `limit` septets.

    Screens are written for 160 septets; on a stricter gateway (say 120) a fixed
    screen that does not fit loses the end of its question text, never its options:
    a user who cannot see "1. Ya" cannot answer at all.
    """
    text = to_gsm(compose_ussd(view, menus, lang, limit))
    if septets(text) <= limit or view.kind not in ("menu", "yesno"):
        return clip(text, limit)
    head = f"{view.error}\n{view.body}" if view.error else view.body
    options = text[len(to_gsm(head)) :]  # "\n1. ...\n2. ..."
    room = limit - septets(options)
    if room < 8:  # options alone do not fit: nothing sensible to keep, cut the end
        return clip(text, limit)
    return clip(to_gsm(head), room) + options


def compose_ussd(view: View, menus: Menus, lang: str, limit: int) -> str:
    """The screen's lines, lists paged to `limit`, before the last-resort clip."""
    head = f"{view.error}\n{view.body}" if view.error else view.body
    if view.kind == "yesno":
        return f"{head}\n1. {menus.text('yes', lang)}\n2. {menus.text('no', lang)}"
    if view.kind == "menu":
        lines = [head] + [f"{n}. {label}" for n, label in enumerate(view.options, 1)]
        return "\n".join(lines)
    if view.kind == "list" and view.items is not None:
        more, back = menus.text("more", lang), menus.text("back", lang)
        starts = list_pages(head, view.items, limit, more, back)
        page = min(view.page, len(starts) - 1)
        end = starts[page + 1] if page + 1 < len(starts) else len(view.items)
        lines = [head] + [f"{n + 1}. {view.items[n]}" for n in range(starts[page], end)]
        if page + 1 < len(starts):
            lines.append(f"{NEXT_PAGE}. {more}")
        lines.append(f"{BACK}. {back}")
        return "\n".join(lines)
    return head


def page_count(view: View, menus: Menus, lang: str, limit: int) -> int:
    if view.items is None:
        return 1
    head = f"{view.error}\n{view.body}" if view.error else view.body
    more, back = menus.text("more", lang), menus.text("back", lang)
    return len(list_pages(head, view.items, limit, more, back))


def render_sms(view: View, menus: Menus, lang: str) -> str:
    """The same screen as an SMS: "Balas 1 untuk ..." lines, YA/TIDAK, the whole list."""
    head = f"{view.error}\n{view.body}" if view.error else view.body
    reply = menus.text("sms_option", lang)
    if view.kind == "yesno":
        text = f"{head}\n{menus.text('sms_yesno', lang)}"
    elif view.kind == "menu":
        lines = [fill(reply, {"n": str(n), "label": lb}) for n, lb in enumerate(view.options, 1)]
        text = "\n".join([head, *lines])
    elif view.kind == "list" and view.items is not None:
        lines = [fill(reply, {"n": str(n), "label": lb}) for n, lb in enumerate(view.items, 1)]
        text = "\n".join([head, *lines, menus.text("sms_back", lang)])
    else:
        text = head
    return to_gsm(text)
