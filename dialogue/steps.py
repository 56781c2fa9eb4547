"""Moving through the screens: one answer applied to the session.

Navigation is the same everywhere: ``0`` back (previous page of a list, previous
screening question, else the previous screen), ``00`` main menu, ``98`` next
page. Action screens run on entry and are never shown or stacked.
"""

from __future__ import annotations

import re
import unicodedata

from core.digits import whole_number
from dialogue.actions import ACTIONS
from dialogue.context import Turn
from dialogue.menus import Screen, Step
from dialogue.model import BACK, MAIN_MENU, NEXT_PAGE
from dialogue.session import Item
from dialogue.views import ENDED, INPUT_ERROR, INVALID

YES = frozenset({"1", "YA", "Y", "YES", "IYA"})
NO = frozenset({"2", "TIDAK", "T", "NO", "N", "TDK", "GAK", "NGGAK"})
_WORD = re.compile(r"[^A-Za-z0-9]")
_INPUT_STRIP = re.compile(r"[\s.\-]")
MAX_STACK = 24
MAX_CHAIN = 12  # action screens in a row: more means the menus loop
KEPT_ON_MAIN_MENU = ("nik", "name")  # who the user is survives "00"; the rest is dropped


def yes_no(text: str) -> bool | None:
    word = _WORD.sub("", text).upper()
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def ascii_digits(text: str) -> str:
    """Arabic-Indic, full-width and every other decimal digit as 0-9: what was meant.

    A phone keyboard in another script types "١٢٣٤٥٦"; the menus' patterns and the
    Registry take ASCII digits only (the NIK's digits were answered "wrong" forever, and
    never counted). Every channel's typed input passes here, on input screens only.
    """
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def choice(text: str, count: int) -> int | None:
    """1-based choice number within 1..count, else None."""
    number = whole_number(text.strip().rstrip("."))
    return number if number is not None and 1 <= number <= count else None


async def source_items(turn: Turn, source: str) -> list[Item]:
    """A list screen's entries as [key, label], loaded when the list is entered."""
    ctx = turn.ctx
    limit, lookups = ctx.settings.max_list_items, ctx.lookups
    if source == "facilities":
        facilities = await ctx.registry.facility_choices(turn.vars["nik"])
        return [[f.facility_id, await lookups.facility_name(f.facility_id)] for f in facilities][
            :limit
        ]
    # The registrant's own days (age band, dose-2 due date): the Registry decides.
    slots = await ctx.registry.available_slots(turn.vars["facility_id"], nik=turn.vars["nik"])
    items: list[Item] = []
    for s in slots:
        seats = s.seats_left
        if not seats:
            continue
        key, line = lookups.slot_text(s.day, s.session_id, s.label, turn.lang)
        items.append([key, f"{line} ({seats})"])
        if len(items) >= limit:
            break
    return items


async def enter(turn: Turn, sid: str) -> None:
    """Make `sid` the current screen, running action screens and loading lists on the way."""
    session, screens = turn.session, turn.ctx.menus.screens
    for _ in range(MAX_CHAIN):
        screen = screens[sid]
        if screen.type == "action":
            outcome = await ACTIONS[screen.step.action].fn(turn, screen.step.arg)
            if outcome is None:
                return
            sid = screen.step.on.get(outcome) or screen.step.next
            continue
        if screen.type == "list":
            items = await source_items(turn, screen.source)
            if not items:
                sid = screen.empty
                continue
            session.items = items
        elif session.items:
            session.items = []  # lists are reloaded when entered again: keep the blob small
        session.screen, session.page = sid, 0
        return
    raise RuntimeError(f"action screens loop at {sid}")


async def follow(turn: Turn, step: Step, arg: str) -> None:
    """Take `step` from the current screen: remember where we were, run the action, go on."""
    session = turn.session
    if step.set:
        session.vars.update(step.set)
    here = (session.screen, session.page)
    if step.action:
        outcome = await ACTIONS[step.action].fn(turn, arg or step.arg)
        if outcome is None:  # the action placed the session itself (resume)
            return
        target = step.on.get(outcome) or step.next
    else:
        target = step.next
    stack = session.stack
    stack.append(here)
    del stack[:-MAX_STACK]
    await enter(turn, target)


async def back(turn: Turn, screen: Screen) -> None:
    session = turn.session
    if screen.type in ("list", "screening") and session.page > 0:
        session.page -= 1  # the previous list page, or the previous screening question
        if screen.type == "screening":
            session.answers.pop(_group_id(turn, session.page), None)  # asked again
        return
    if not session.stack:
        return
    sid, pos = session.stack.pop()
    target = turn.ctx.menus.screens[sid]
    if target.type == "list":
        session.items = await source_items(turn, target.source) or session.items
    if target.type == "screening":
        session.answers.pop(_group_id(turn, pos), None)
    session.screen, session.page = sid, pos


def _group_id(turn: Turn, pos: int) -> str:
    groups = turn.ctx.registry.screening_groups()
    return groups[min(pos, len(groups) - 1)].group_id


async def main_menu(turn: Turn) -> None:
    session = turn.session
    session.stack = []
    session.vars = {k: v for k, v in session.vars.items() if k in KEPT_ON_MAIN_MENU}
    session.answers = {}
    await enter(turn, turn.ctx.menus.start)


async def answer(turn: Turn, text: str, pages: int) -> str:
    """Apply one answer; returns an error key ("" when the answer was understood).

    `pages`: how many pages the current list has in the channel's layout.
    """
    session = turn.session
    screen = turn.ctx.menus.screens[session.screen]
    t = text.strip()
    if t == MAIN_MENU:
        await main_menu(turn)
        return ""
    if t == BACK:
        await back(turn, screen)
        return ""
    if t == NEXT_PAGE and screen.type == "list":
        if session.page + 1 < pages:
            session.page += 1
            return ""
        return INVALID
    if screen.type == "screening":
        return await _screening_answer(turn, screen, t)
    if screen.type == "end":  # an end screen takes no more input
        return ENDED
    step, arg = _chosen(turn, screen, t)
    if step is None:
        return INPUT_ERROR if screen.type == "input" else INVALID
    await follow(turn, step, arg)
    return ""


def _chosen(turn: Turn, screen: Screen, t: str) -> tuple[Step | None, str]:
    """The step an answer takes on a menu, yes/no, input or list screen (None: not valid)."""
    if screen.type == "menu":
        n = choice(t, len(screen.options))
        return (screen.options[n - 1].step, "") if n is not None else (None, "")
    if screen.type == "yesno":
        yes = yes_no(t)
        return (None, "") if yes is None else (screen.yes if yes else screen.no, "")
    if screen.type == "input":
        value = ascii_digits(_INPUT_STRIP.sub("", t))
        if screen.pattern is None or not screen.pattern.fullmatch(value):
            return None, ""
        return screen.step, value
    items = turn.session.items  # a list
    n = choice(t, len(items))
    return (screen.step, items[n - 1][0]) if n is not None else (None, "")


async def _screening_answer(turn: Turn, screen: Screen, t: str) -> str:
    """Record one screening group's yes/no; a yes or the last answer goes on."""
    yes = yes_no(t)
    if yes is None:
        return INVALID
    session = turn.session
    groups = turn.ctx.registry.screening_groups()
    pos = min(session.page, len(groups) - 1)
    session.answers[groups[pos].group_id] = yes
    if yes or pos + 1 >= len(groups):
        await follow(turn, screen.step, "")
    else:
        # The next question is the next page of this screen: "0" goes back by the page, as
        # in a list (a stack entry per question made "0" on question 1 show it again, and
        # the stack grow by one per round trip).
        session.page = pos + 1
    return ""
