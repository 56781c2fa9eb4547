"""Moving through the screens: one answer applied to the session, and the view of a screen.

Navigation is the same everywhere: ``0`` back (previous page of a list, previous
screening question, else the previous screen), ``00`` main menu, ``98`` next
page. Action screens run on entry and are never shown or stacked.
"""

from __future__ import annotations

import re

from dialogue.actions import ACTIONS, Turn
from dialogue.menus import Screen, Step
from dialogue.render import BACK, MAIN_MENU, NEXT_PAGE, View, fill

YES = frozenset({"1", "YA", "Y", "YES", "IYA"})
NO = frozenset({"2", "TIDAK", "T", "NO", "N", "TDK", "GAK", "NGGAK"})
_WORD = re.compile(r"[^A-Za-z0-9]")
_INPUT_STRIP = re.compile(r"[\s.\-]")
MAX_STACK = 24
MAX_CHAIN = 12  # action screens in a row: more means the menus loop


def yes_no(text: str) -> bool | None:
    word = _WORD.sub("", text).upper()
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def choice(text: str, count: int) -> int | None:
    """1-based choice number within 1..count, else None."""
    t = text.strip().rstrip(".")
    if t.isdigit() and 1 <= int(t) <= count:
        return int(t)
    return None


async def source_items(turn: Turn, source: str) -> list[list[str]]:
    """A list screen's entries as [key, label], loaded when the list is entered."""
    engine = turn.engine
    limit = engine.settings.max_list_items
    if source == "facilities":
        facilities = await engine.registry.facility_choices(turn.vars["nik"])
        return [[f.facility_id, await engine.facility_name(f.facility_id)] for f in facilities][
            :limit
        ]
    slots = await engine.slots(turn.vars["facility_id"])
    names = engine.weekdays[turn.lang]
    return [
        [
            f"{s.day.isoformat()}|{s.session_id}",
            f"{names[s.day.weekday()]} {s.day:%d/%m} {s.label} ({s.seats_left})",
        ]
        for s in slots
        if s.seats_left > 0
    ][:limit]


async def enter(turn: Turn, sid: str) -> None:
    """Make `sid` the current screen, running action screens and loading lists on the way."""
    sess, screens = turn.sess, turn.engine.menus.screens
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
            sess["i"] = items
        elif sess["i"]:
            sess["i"] = []  # lists are reloaded when entered again: keep the blob small
        sess["s"], sess["p"] = sid, 0
        return
    raise RuntimeError(f"action screens loop at {sid}")


async def follow(turn: Turn, step: Step, arg: str) -> None:
    """Take `step` from the current screen: remember where we were, run the action, go on."""
    sess = turn.sess
    if step.set:
        sess["v"].update(step.set)
    here = [sess["s"], sess["p"]]
    if step.action:
        outcome = await ACTIONS[step.action].fn(turn, arg or step.arg)
        if outcome is None:  # the action placed the session itself (resume)
            return
        target = step.on.get(outcome) or step.next
    else:
        target = step.next
    stack = sess["k"]
    stack.append(here)
    del stack[:-MAX_STACK]
    await enter(turn, target)


async def back(turn: Turn, screen: Screen) -> None:
    sess = turn.sess
    if screen.type in ("list", "screening") and sess["p"] > 0:
        sess["p"] -= 1
        return
    if not sess["k"]:
        return
    sid, pos = sess["k"].pop()
    target = turn.engine.menus.screens[sid]
    if target.type == "list":
        sess["i"] = await source_items(turn, target.source) or sess.get("i", [])
    if target.type == "screening":
        sess["v"].get("answers", {}).pop(_group_id(turn, pos), None)
    sess["s"], sess["p"] = sid, pos


def _group_id(turn: Turn, pos: int) -> str:
    groups = turn.engine.registry.screening_groups()
    return groups[min(pos, len(groups) - 1)].group_id


async def answer(turn: Turn, text: str, pages: int) -> str:
    """Apply one answer; returns an error text key ("" when the answer was understood)."""
    sess = turn.sess
    screen = turn.engine.menus.screens[sess["s"]]
    t = text.strip()
    if t == MAIN_MENU:
        sess["k"] = []
        sess["v"] = {k: v for k, v in sess["v"].items() if k in ("nik", "name")}
        await enter(turn, turn.engine.menus.start)
        return ""
    if t == BACK:
        await back(turn, screen)
        return ""
    if t == NEXT_PAGE and screen.type == "list":
        if sess["p"] + 1 < pages:
            sess["p"] += 1
            return ""
        return "invalid"
    if screen.type == "menu":
        n = choice(t, len(screen.options))
        if n is None:
            return "invalid"
        await follow(turn, screen.options[n - 1].step, "")
    elif screen.type == "yesno":
        yes = yes_no(t)
        if yes is None:
            return "invalid"
        await follow(turn, screen.yes if yes else screen.no, "")
    elif screen.type == "input":
        value = _INPUT_STRIP.sub("", t)
        if screen.pattern is None or not screen.pattern.fullmatch(value):
            return "@error"
        await follow(turn, screen.step, value)
    elif screen.type == "list":
        items = sess.get("i") or []
        n = choice(t, len(items))
        if n is None:
            return "invalid"
        await follow(turn, screen.step, items[n - 1][0])
    elif screen.type == "screening":
        yes = yes_no(t)
        if yes is None:
            return "invalid"
        groups = turn.engine.registry.screening_groups()
        pos = min(sess["p"], len(groups) - 1)
        sess["v"].setdefault("answers", {})[groups[pos].group_id] = yes
        if yes or pos + 1 >= len(groups):
            await follow(turn, screen.step, "")
        else:
            sess["k"].append([sess["s"], pos])
            sess["p"] = pos + 1
    else:  # an end screen takes no more input
        return "ended"
    return ""


def view(turn: Turn, error: str = "") -> View:
    """What the current screen shows, with variables filled in, in the session's language."""
    sess, lang, engine = turn.sess, turn.lang, turn.engine
    screen = engine.menus.screens[sess["s"]]
    # Session variables win over the engine's globals (help e-mail, video link).
    values = {**engine.globals, **sess["v"]}
    values["day"] = sess["v"].get("day_text", "")
    err = ""
    if error == "@error" and screen.error is not None:
        err = screen.error[lang]
    elif error:
        err = engine.menus.text("invalid", lang)
    if screen.type == "screening":
        groups = engine.registry.screening_groups()
        pos = min(sess["p"], len(groups) - 1)
        body = f"({pos + 1}/{len(groups)}) {groups[pos].prompt[lang]}"
        return View("yesno", body, [], error=err)
    text = screen.sms_text if turn.channel == "sms" and screen.sms_text else screen.text
    if "code" in sess["v"]:
        values["link"] = engine.ticket_link(sess["v"]["code"])
    body = fill(text[lang], values)
    if screen.type == "menu":
        return View("menu", body, [o.label[lang] for o in screen.options], error=err)
    if screen.type == "list":
        items = [label for _, label in sess.get("i") or []]
        return View("list", body, [], items=items, page=sess["p"], error=err)
    return View(screen.type, body, [], error=err)
