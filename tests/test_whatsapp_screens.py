"""Every screen of the menus, both languages, worst-case values: within WhatsApp's limits.

Worst cases as in tests/test_dialogue_screens.py (the longest name, facility,
reason and advice; 60 facilities, 28 schedules), screens in their long form (the
WhatsApp layout's), every page of every list, every error.
"""

from __future__ import annotations

import pytest

from dialogue.engine import Engine
from dialogue.model import BACK, NEXT_PAGE
from tests.test_dialogue_screens import sms_view, views
from whatsapp.limits import problems
from whatsapp.render import WhatsAppLayout, render

LAYOUT = WhatsAppLayout()


def check_limits(message: dict) -> list[str]:
    """The limits, counted here again (not only by whatsapp.limits)."""
    found, kind = [], message["type"]
    if kind == "text":
        found += ["text body > 4096"] * (len(message["text"]["body"]) > 4096)
    elif kind == "image":
        found += ["caption > 1024"] * (len(message["image"].get("caption", "")) > 1024)
    else:
        inter = message["interactive"]
        found += ["interactive body > 1024"] * (len(inter["body"]["text"]) > 1024)
        action = inter["action"]
        buttons = action.get("buttons", [])
        found += ["more than 3 buttons"] * (len(buttons) > 3)
        found += [f"button title {b['reply']['title']!r} > 20" for b in buttons
                  if len(b["reply"]["title"]) > 20]  # fmt: skip
        if inter["type"] == "list":
            rows = [row for section in action["sections"] for row in section["rows"]]
            found += ["more than 10 rows"] * (len(rows) > 10)
            found += ["list button > 20"] * (len(action["button"]) > 20)
            found += [f"row title {r['title']!r} > 24" for r in rows if len(r["title"]) > 24]
            found += [f"row description {r['description']!r} > 72" for r in rows
                      if len(r.get("description", "")) > 72]  # fmt: skip
            found += [f"row id {r['id']!r} > 200" for r in rows if len(r["id"]) > 200]
            titles = [s.get("title", "") for s in action["sections"]]
            found += [f"section title {t!r} > 24" for t in titles if len(t) > 24]
    return found


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_every_screen_renders_within_whatsapps_limits(context, lang: str) -> None:
    engine: Engine = context.engine
    broken: list[str] = []
    rendered = 0
    for sid, error, session in views(engine, lang):
        pages = LAYOUT.pages(sms_view(engine, session, error))
        shown: list[str] = []
        for page in range(pages):
            session.page = page
            view = sms_view(engine, session, error)
            for message in render(view, engine.menus).messages:
                rendered += 1
                found = problems(message) + check_limits(message)
                broken += [f"{sid}{'+' + error if error else ''} page {page}: {p}" for p in found]
                assert "900001" not in str(message), sid  # the worst-case NIK's last 6
                if message["type"] == "interactive" and view.items:
                    rows = message["interactive"]["action"]["sections"][0]["rows"]
                    shown += [r["id"] for r in rows if r["id"] not in (BACK, NEXT_PAGE)]
        if session.items:  # paging loses nothing and repeats nothing
            assert shown == [key for key, _ in session.items], sid
    assert rendered > 40 and not broken, "\n".join(broken)


def shape(engine: Engine, session) -> str:
    """How a screen is sent: "button", "list" or "text" (its last message)."""
    last = render(sms_view(engine, session, ""), engine.menus).messages[-1]
    return last["interactive"]["type"] if last["type"] == "interactive" else last["type"]


async def test_buttons_are_used_where_they_fit_and_lists_where_they_do_not(context) -> None:
    engine: Engine = context.engine
    shapes = {sid: shape(engine, session) for sid, error, session in views(engine, "en")}
    assert shapes["hw_confirm"] == shapes["screening"] == shapes["confirm"] == "button"
    assert shapes["main"] == shapes["facility_list"] == shapes["slot_list"] == "list"
    assert shapes["nik"] == shapes["done"] == "text"
