"""The current screen as data (:class:`dialogue.model.View`), and picked keys back to answers.

Keys are stable and say which screen they belong to (``main.2``, ``hw_confirm.yes``,
``screening.3.no``; a list item's own key such as a facility id), so a button
left over from an earlier screen is recognised as such instead of answering
the current one.
"""

from __future__ import annotations

from core.digits import is_digits
from dialogue.context import DialogueContext
from dialogue.menus import Screen, Text, fill
from dialogue.model import NAVIGATION, Choice, View, ViewKind
from dialogue.session import Session

_KINDS = {kind.value: kind for kind in ViewKind}
INPUT_ERROR = "@error"  # the input screen's own error text (e.g. "Must be 6 digits.")
INVALID = "invalid"  # the shared "Invalid choice." text
ENDED = "ended"


def build_view(
    ctx: DialogueContext,
    session: Session,
    error: str = "",
    *,
    long_form: bool = False,
    messages: bool = False,
) -> View:
    """What the current screen shows, variables filled in, in the session's language.

    `long_form`: the layout has room for `sms_text` (links); `messages`: an SMS or
    WhatsApp conversation, answered by keywords (`message_text` first).
    """
    lang, menus = session.lang, ctx.menus
    screen = menus.screens[session.screen]
    err = _error_text(ctx, screen, error, lang)
    if screen.type == "screening":
        return _screening_view(ctx, session, screen, err)
    variables = session.vars
    code = variables.get("code", "")
    # Only an active ticket has a QR worth showing: a used or cancelled one answers 404.
    active = variables.get("ticket_status", "active") == "active"
    link = ctx.lookups.ticket_link(code) if code and active else ""
    video = ctx.settings.video_url
    # Session variables win over the engine's own (help e-mail, video link).
    values = {"help_email": ctx.settings.help_email, "video": video, **variables}
    values["day"] = variables.get("day_text", "")
    if code:
        values["link"] = link
    body = fill(screen_text(screen, long_form=long_form, messages=messages)[lang], values)
    kind = _KINDS[screen.type]
    options: tuple[Choice, ...] = ()
    if screen.type == "menu":
        options = tuple(
            (f"{screen.id}.{n}", o.label[lang]) for n, o in enumerate(screen.options, 1)
        )
    elif screen.type == "yesno":
        options = _yes_no(ctx, screen.id, lang)
    return View(
        kind,
        screen.id,
        lang,
        body,
        options,
        items=tuple(session.items) if screen.type == "list" else (),
        page=session.page,
        error=err,
        input_pattern=screen.pattern.pattern if screen.pattern is not None else "",
        ticket_code=code,
        qr_link=link,
        video_link=video,
    )


def screen_text(screen: Screen, *, long_form: bool, messages: bool) -> Text:
    """The screen's text for a channel: a message channel's own wording, else the long
    form where it fits, else the USSD text."""
    if messages and screen.message_text:
        return screen.message_text
    return screen.sms_text if long_form and screen.sms_text else screen.text


def _error_text(ctx: DialogueContext, screen: Screen, error: str, lang: str) -> str:
    if error == INPUT_ERROR and screen.error is not None:
        return screen.error[lang]
    return ctx.menus.text(INVALID, lang) if error else ""


def _yes_no(ctx: DialogueContext, prefix: str, lang: str) -> tuple[Choice, ...]:
    menus = ctx.menus
    return ((f"{prefix}.yes", menus.text("yes", lang)), (f"{prefix}.no", menus.text("no", lang)))


def _screening_view(ctx: DialogueContext, session: Session, screen: Screen, err: str) -> View:
    """One screening group as a yes/no question: "(2/5) Do any of these apply to you?"."""
    groups = ctx.registry.screening_groups()
    pos = min(session.page, len(groups) - 1)
    body = f"({pos + 1}/{len(groups)}) {groups[pos].prompt[session.lang]}"
    options = _yes_no(ctx, f"{screen.id}.{pos + 1}", session.lang)
    return View(ViewKind.YESNO, screen.id, session.lang, body, options, page=pos, error=err)


def typed_answer(ctx: DialogueContext, session: Session, key: str) -> str | None:
    """A picked key as the answer a user would type ("2", "1"...); None: not on this screen."""
    if key in NAVIGATION:
        return key
    screen = ctx.menus.screens[session.screen]
    if screen.type == "list":
        for n, item in enumerate(session.items, 1):
            if item[0] == key:
                return str(n)
        return None
    prefix = screen.id
    if screen.type == "screening":
        groups = ctx.registry.screening_groups()
        prefix = f"{screen.id}.{min(session.page, len(groups) - 1) + 1}"
    if screen.type in ("yesno", "screening"):
        return {f"{prefix}.yes": "1", f"{prefix}.no": "2"}.get(key)
    if screen.type == "menu":
        head, _, number = key.rpartition(".")
        if head == prefix and is_digits(number) and 1 <= int(number) <= len(screen.options):
            return number
    return None
