"""The text layouts of the dialogue's own channels: USSD lines and SMS reply instructions.

:class:`UssdLayout` shows options as ``N. Label`` within the gateway's septet
limit (dynamic lists are paged to fit, ``98`` next page, ``0`` back);
:class:`SmsLayout` shows the same screen as "Balas N untuk Label" lines, lists
paged the same way within two GSM-7 segments (``SMS_LIMIT``): every reply of the
dialogue costs at most two concatenated parts. Both implement
:class:`dialogue.model.Layout`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogue.gsm import clip, septets, to_gsm
from dialogue.menus import Menus, fill
from dialogue.model import BACK, NEXT_PAGE, View, ViewKind


def _head(view: View) -> str:
    return f"{view.error}\n{view.body}" if view.error else view.body


# Two concatenated GSM-7 parts of 153 septets. Replies are GSM-7 only (``to_gsm``): the
# UCS-2 limit (2 x 67 = 134 units) never applies.
SMS_LIMIT = 306


# A list is paged on every hop that shows it (twice: how many pages, which lines), and
# many people see the same list (a facility's times, cached a second upstream): pagings
# are kept, emptied when full.
_PAGINGS: dict[tuple[object, ...], list[int]] = {}
PAGINGS_KEPT = 1024


def list_pages(header: str, labels: list[str], room: int, more: str, back: str) -> list[int]:
    """Start index of every page: as many `N. label` lines as fit under `room` septets."""
    key = (header, room, more, back, *labels)
    starts = _PAGINGS.get(key)
    if starts is None:
        base = septets(header) + septets(back) + 5  # header, "\n0. Back"
        more_cost = septets(more) + 5  # "\n98. More"
        lines = [septets(label) + len(str(n)) + 3 for n, label in enumerate(labels, 1)]  # "\nN. "
        starts = page_starts(base, lines, more_cost, room)
        if len(_PAGINGS) >= PAGINGS_KEPT:
            _PAGINGS.clear()
        _PAGINGS[key] = starts
    return starts


def page_starts(base: int, lines: list[int], more_cost: int, room: int) -> list[int]:
    """Start index of every page: `base` septets on each page (header, back line), then
    lines of the given costs while they fit in `room`, with room for a "more" line on
    every page but the last. A line alone on its page always goes in."""
    starts: list[int] = []
    count, i = len(lines), 0
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


def _ussd_pages(view: View, menus: Menus, limit: int) -> list[int]:
    labels = [label for _, label in view.items]
    more, back = menus.text("more", view.lang), menus.text("back", view.lang)
    return list_pages(_head(view), labels, limit, more, back)


def compose_ussd(view: View, menus: Menus, limit: int) -> str:
    """The screen's lines, lists paged to `limit`, before the last-resort clip."""
    head = _head(view)
    if view.kind in (ViewKind.MENU, ViewKind.YESNO):
        lines = [head] + [f"{n}. {label}" for n, (_, label) in enumerate(view.options, 1)]
        return "\n".join(lines)
    if view.kind is ViewKind.LIST:
        starts = _ussd_pages(view, menus, limit)
        page = min(view.page, len(starts) - 1)
        end = starts[page + 1] if page + 1 < len(starts) else len(view.items)
        lines = [head] + [f"{n + 1}. {view.items[n][1]}" for n in range(starts[page], end)]
        if page + 1 < len(starts):
            lines.append(f"{NEXT_PAGE}. {menus.text('more', view.lang)}")
        lines.append(f"{BACK}. {menus.text('back', view.lang)}")
        return "\n".join(lines)
    return head


def render_ussd(view: View, menus: Menus, limit: int) -> str:
    """The screen as USSD text: body, numbered options, navigation; within `limit` septets.

    Screens are written for 160 septets; on a stricter gateway (say 120) a fixed
    screen that does not fit loses the end of its question text, never its options:
    a user who cannot see "1. Ya" cannot answer at all.
    """
    text = to_gsm(compose_ussd(view, menus, limit))
    if septets(text) <= limit or view.kind not in (ViewKind.MENU, ViewKind.YESNO):
        return clip(text, limit)
    head = to_gsm(_head(view))
    options = text[len(head) :]  # "\n1. ...\n2. ..."
    room = limit - septets(options)
    if room < 8:  # options alone do not fit: nothing sensible to keep, cut the end
        return clip(text, limit)
    return clip(head, room) + options


def _sms_lines(view: View, menus: Menus) -> list[str]:
    """A menu's options or a list's items as "Balas N untuk label" lines (numbered from 1)."""
    reply = menus.text("sms_option", view.lang)
    choices = view.options if view.kind is ViewKind.MENU else view.items
    return [to_gsm(fill(reply, {"n": str(n), "label": lb})) for n, (_, lb) in enumerate(choices, 1)]


def sms_pages(view: View, menus: Menus) -> list[int]:
    """Where each page of a list starts in an SMS reply of at most ``SMS_LIMIT`` septets."""
    head, lang = to_gsm(_head(view)), view.lang
    base = septets(head) + 1 + septets(menus.text("sms_back", lang))
    more_cost = 1 + septets(menus.text("sms_more", lang))
    lines = [1 + septets(line) for line in _sms_lines(view, menus)]
    return page_starts(base, lines, more_cost, SMS_LIMIT)


def render_sms(view: View, menus: Menus) -> str:
    """The same screen as an SMS: "Balas 1 untuk ..." lines, YA/TIDAK, a page of a list."""
    head, lang = _head(view), view.lang
    if view.kind is ViewKind.YESNO:
        return to_gsm(f"{head}\n{menus.text('sms_yesno', lang)}")
    if view.kind is ViewKind.MENU:
        return to_gsm("\n".join([head, *_sms_lines(view, menus)]))
    if view.kind is not ViewKind.LIST:
        return to_gsm(head)
    starts, lines = sms_pages(view, menus), _sms_lines(view, menus)
    page = min(view.page, len(starts) - 1)
    end = starts[page + 1] if page + 1 < len(starts) else len(lines)
    shown = [head, *lines[starts[page] : end]]
    if page + 1 < len(starts):
        shown.append(menus.text("sms_more", lang))
    shown.append(menus.text("sms_back", lang))
    return to_gsm("\n".join(shown))


@dataclass(frozen=True, slots=True)
class UssdLayout:
    """A USSD gateway's screens: numbered, lists paged within `limit` septets."""

    menus: Menus
    limit: int
    long_form: bool = False  # 160 septets: links to the QR image and the video do not fit

    def pages(self, view: View) -> int:
        if view.kind is not ViewKind.LIST:
            return 1
        return len(_ussd_pages(view, self.menus, self.limit))

    def text(self, view: View) -> str:
        return render_ussd(view, self.menus, self.limit)


@dataclass(frozen=True, slots=True)
class SmsLayout:
    """Two-way SMS: "Balas N untuk ..." lines; lists paged within two segments (98 more)."""

    menus: Menus
    long_form: bool = True  # an SMS carries the QR and video links

    def pages(self, view: View) -> int:
        if view.kind is not ViewKind.LIST:
            return 1
        return len(sms_pages(view, self.menus))

    def text(self, view: View) -> str:
        return render_sms(view, self.menus)
