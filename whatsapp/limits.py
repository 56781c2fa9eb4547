"""WhatsApp's limits on what a business may send, and a checker for one message.

The renderer stays within these; the development Graph API refuses (400) any
message that does not, as the real one does; the screen test checks every
screen of the menus against them.
"""

from __future__ import annotations

from typing import Any

MAX_BUTTONS = 3
BUTTON_TITLE = 20
BUTTON_ID = 256
LIST_ROWS = 10  # in all sections together
LIST_SECTIONS = 10
ROW_TITLE = 24
ROW_DESCRIPTION = 72
ROW_ID = 200
SECTION_TITLE = 24
LIST_BUTTON = 20
INTERACTIVE_BODY = 1024
TEXT_BODY = 4096
CAPTION = 1024


def _text(value: Any, limit: int, what: str, out: list[str], *, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value.strip()):
        out.append(f"{what} is missing")
    elif len(value) > limit:
        out.append(f"{what} has {len(value)} characters (at most {limit})")


def _buttons(action: dict[str, Any], out: list[str]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        out.append(f"a button message needs 1 to {MAX_BUTTONS} buttons")
        return
    titles, ids = [], []
    for n, button in enumerate(buttons, 1):
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict) or button.get("type") != "reply":
            out.append(f"button {n} is not a reply button")
            continue
        _text(reply.get("id"), BUTTON_ID, f"button {n} id", out)
        _text(reply.get("title"), BUTTON_TITLE, f"button {n} title", out)
        titles.append(reply.get("title"))
        ids.append(reply.get("id"))
    if len(set(map(str, titles))) != len(titles) or len(set(map(str, ids))) != len(ids):
        out.append("button titles and ids must be unique")


def _list(action: dict[str, Any], out: list[str]) -> None:
    _text(action.get("button"), LIST_BUTTON, "list button label", out)
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= LIST_SECTIONS:
        out.append(f"a list needs 1 to {LIST_SECTIONS} sections")
        return
    ids: list[str] = []
    for s, section in enumerate(sections, 1):
        if not isinstance(section, dict) or not isinstance(section.get("rows"), list):
            out.append(f"section {s} has no rows")
            continue
        _text(section.get("title"), SECTION_TITLE, f"section {s} title", out,
              required=len(sections) > 1)  # fmt: skip
        for r, row in enumerate(section["rows"], 1):
            if not isinstance(row, dict):
                out.append(f"section {s} row {r} is not an object")
                continue
            _text(row.get("id"), ROW_ID, f"row {r} id", out)
            _text(row.get("title"), ROW_TITLE, f"row {r} title", out)
            _text(row.get("description"), ROW_DESCRIPTION, f"row {r} description", out,
                  required=False)  # fmt: skip
            ids.append(str(row.get("id")))
    if not 1 <= len(ids) <= LIST_ROWS:
        out.append(f"a list has {len(ids)} rows (1 to {LIST_ROWS} in all)")
    if len(set(ids)) != len(ids):
        out.append("row ids must be unique")


def problems(message: dict[str, Any]) -> list[str]:
    """What breaks WhatsApp's rules in one outgoing message ([] when it is fine)."""
    out: list[str] = []
    kind = message.get("type")
    body = message.get(kind) if isinstance(kind, str) else None
    if not isinstance(body, dict):
        return [f"a message of type {kind!r} needs a {kind!r} object"]
    if kind == "text":
        _text(body.get("body"), TEXT_BODY, "text body", out)
    elif kind == "image":
        if not body.get("link") and not body.get("id"):
            out.append("an image needs a link or a media id")
        _text(body.get("caption"), CAPTION, "image caption", out, required=False)
    elif kind == "template":
        _text(body.get("name"), 512, "template name", out)
        language = body.get("language")
        if not isinstance(language, dict) or not language.get("code"):
            out.append("a template needs language.code")
    elif kind == "interactive":
        text = body.get("body")
        _text(text.get("text") if isinstance(text, dict) else None,
              INTERACTIVE_BODY, "interactive body", out)  # fmt: skip
        action = body.get("action") if isinstance(body.get("action"), dict) else {}
        if body.get("type") == "button":
            _buttons(action, out)
        elif body.get("type") == "list":
            _list(action, out)
        else:
            out.append(f"interactive type {body.get('type')!r} is not sent by this service")
    else:
        out.append(f"message type {kind!r} is not sent by this service")
    return out
