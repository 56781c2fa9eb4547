"""One hop end to end: load the session, recognise retransmits, apply the answer, save.

USSD: sessions are keyed by dialect, gateway session id and msisdn; a dropped
registration leaves a resume snapshot per msisdn, offered on the next dial.
WEB: the same, one session per browser session (the web edge numbers its hops),
started at the menus' ``web`` entry, in the language the page asks for.
SMS and WhatsApp (the message channels): one session per msisdn and channel
(long TTL); keywords (data in the menus) start a dialogue from anywhere; an
unknown text outside a session gets help, flagged ``fallback`` so the channel
can rate-limit auto-replies.

Either way a hop costs one read and one write of the session store (the answer to an
offer to resume reads the snapshot too); the channel's
:class:`~dialogue.model.Layout` pages lists and lays out the text.
"""

from __future__ import annotations

import re

from core import metrics
from dialogue import actions, steps
from dialogue.context import DialogueContext, Turn
from dialogue.gsm import to_gsm
from dialogue.menus import LANGUAGES, fill
from dialogue.model import (
    MESSAGE_CHANNELS,
    Channel,
    Inbound,
    Layout,
    Outbound,
    SessionEvent,
    View,
    ViewKind,
)
from dialogue.session import ResumeWrite, Session, SessionRef
from dialogue.settings import normalise_service_code
from dialogue.views import INVALID, build_view, typed_answer

_KEYWORD = re.compile(r"[^A-Z]")
KEYWORD_MAX_CHARS = 40  # longer texts are answers or chatter, never a keyword
MAX_WRONG_ANSWERS = 3  # in a row, on a message channel: the conversation ends
WRONG_ANSWERS_SCREEN = "wrong_answers"  # its final message (says how to start again)
WRONG_ANSWERS_VAR = "wrong_answers"


def _count(channel: Channel, event: str) -> None:
    metrics.SESSIONS.labels(channel.value, event).inc()


def notice(ctx: DialogueContext, key: str, lang: str) -> Outbound:
    """An END screen from a shared text (expired, unknown service code...)."""
    values = {"help_email": ctx.settings.help_email, "video": ctx.settings.video_url}
    text = to_gsm(fill(ctx.menus.text(key, lang), values))
    return Outbound(text, end=True, view=View(ViewKind.END, "", lang, text))


async def phone_notice(ctx: DialogueContext, channel: Channel, msisdn: str, key: str) -> Outbound:
    """A shared text in the phone's language, for an edge's own answer (the SMS opt-out)."""
    stored = await ctx.store.load(SessionRef(channel.value, msisdn, msisdn), with_resume=False)
    return notice(ctx, key, _language(ctx, stored.language))


def _language(ctx: DialogueContext, stored: str | None) -> str:
    return stored if stored in LANGUAGES else ctx.settings.default_language


def _retransmit(session: Session, inbound: Inbound) -> bool:
    if inbound.hop is not None and session.last_hop is not None:
        return inbound.hop <= session.last_hop
    # Without hop numbers only a repeated "new session" can be told apart for sure.
    return inbound.event is SessionEvent.NEW and session.hops == 1


def _resume_write(session: Session, end: bool) -> ResumeWrite:
    """A registration under way is the phone's resume snapshot until it ends."""
    if not end and session.vars.get("intent") == "register" and "nik" in session.vars:
        session.holds_resume = True
        return ResumeWrite.SNAPSHOT
    if end and session.holds_resume:
        return ResumeWrite.CLEAR
    return ResumeWrite.KEEP


async def _answer(turn: Turn, inbound: Inbound, layout: Layout) -> str:
    """Apply the user's answer (typed, or a picked key); returns the error key or ""."""
    ctx, session = turn.ctx, turn.session
    text = inbound.text
    if inbound.choice:
        typed = typed_answer(ctx, session, inbound.choice)
        if typed is None:
            return INVALID  # a button of another screen: show this one again
        text = typed
    pages = 1
    if ctx.menus.screens[session.screen].type == "list":
        pages = layout.pages(_view(turn, "", layout))
    return await steps.answer(turn, text, pages)


def _view(turn: Turn, error: str, layout: Layout) -> View:
    """The current screen in the layout's form; SMS and WhatsApp in their own words."""
    messages = turn.channel in MESSAGE_CHANNELS
    return build_view(turn.ctx, turn.session, error, long_form=layout.long_form, messages=messages)


def _shown(turn: Turn, error: str, layout: Layout) -> tuple[View, str, bool]:
    """The screen to show now: its view, its text in the layout, and whether it ends."""
    ctx, session = turn.ctx, turn.session
    view = _view(turn, error, layout)
    end = ctx.menus.screens[session.screen].type == "end"
    if end:
        session.finished = True
    return view, layout.text(view), end


async def _start(turn: Turn, channel: Channel) -> None:
    """A new session's first screen: resume, the channel's own entry, or the start."""
    menus = turn.ctx.menus
    entry = menus.entries.get(channel.value)
    if turn.resume is not None and await actions.stale_resume(turn):
        await steps.enter(turn, "status_check")  # booked meanwhile: what holds now
    elif turn.resume is not None:
        await steps.enter(turn, menus.resume)
    elif entry is not None:
        turn.vars.update(entry.set)
        await steps.enter(turn, entry.screen)
    else:
        await steps.enter(turn, menus.start)


async def ussd_hop(ctx: DialogueContext, inbound: Inbound, layout: Layout) -> Outbound:
    """A USSD hop, or a web form (the same rules: a session per dial or browser session)."""
    ref = SessionRef(inbound.dialect, inbound.session_id, inbound.msisdn)
    if inbound.event in (SessionEvent.CLOSE, SessionEvent.TIMEOUT):
        gone = (await ctx.store.load(ref, with_resume=False)).session
        if gone is not None and not gone.finished:
            _count(inbound.channel, "abandoned")  # hung up (or timed out) before the end
        await ctx.store.drop(ref)  # the resume snapshot stays for the next dial
        return Outbound("", end=True)
    web = inbound.channel is Channel.WEB
    if not web and normalise_service_code(inbound.service_code) not in ctx.settings.service_codes:
        return notice(ctx, "unknown_service", ctx.settings.default_language)
    # The resume snapshot is read where it is offered (a new dial) and where the offer is
    # answered; during a registration it is this session's own copy: not read back.
    stored = await ctx.store.load(ref, with_resume=inbound.event is SessionEvent.NEW)
    session, resume = stored.session, stored.resume
    if session is not None and session.screen not in ctx.menus.screens:
        session = None  # a screen the menus no longer have: as good as expired
    if session is not None and inbound.lang in LANGUAGES:
        session.lang = inbound.lang  # the page's language switch
    if session is not None and _retransmit(session, inbound):
        view = build_view(ctx, session, session.error, long_form=layout.long_form)
        return Outbound(session.reply, session.finished, view=view)
    error = ""
    if inbound.event is SessionEvent.NEW:
        lang = inbound.lang if inbound.lang in LANGUAGES else stored.language
        session = Session(lang=_language(ctx, lang))
        session.holds_resume = resume is not None  # finishing this one settles the old one
        turn = Turn(ctx, session, inbound.msisdn, inbound.channel.value, resume)
        _count(inbound.channel, "started")
        await _start(turn, inbound.channel)
    else:
        if session is None:
            return notice(ctx, "expired", _language(ctx, stored.language))
        if session.finished:
            return notice(ctx, "ended", session.lang)
        if session.screen == ctx.menus.resume:
            resume = await ctx.store.resume(inbound.msisdn)
        turn = Turn(ctx, session, inbound.msisdn, inbound.channel.value, resume)
        error = await _answer(turn, inbound, layout)
    view, text, end = _shown(turn, error, layout)
    if end:
        _count(inbound.channel, "completed")
    session.last_hop, session.reply, session.error = inbound.hop, text, error
    session.hops += 1
    settings = ctx.settings
    ttl = settings.web_session_ttl_seconds if web else settings.session_ttl_seconds
    resume_write = _resume_write(session, end)
    await ctx.store.save(
        ref, session, ttl, resume_write, settings.resume_window_seconds, language=turn.language
    )
    return Outbound(text, end, view=view)


def _gave_up(turn: Turn, error: str) -> bool:
    """Message channels: the MAX_WRONG_ANSWERS-th wrong answer in a row ends the conversation.

    An auto-responder ("I am on leave") answering every reply would otherwise get
    "Invalid choice" and the screen back for ever, each renewing the session; once the
    conversation has ended its messages get the help reply, which the channel rate-limits.
    A right answer resets the count (kept in the session's variables).
    """
    if not error:
        turn.vars.pop(WRONG_ANSWERS_VAR, None)
        return False
    count = int(turn.vars.get(WRONG_ANSWERS_VAR, "0")) + 1
    turn.vars[WRONG_ANSWERS_VAR] = str(count)
    return count >= MAX_WRONG_ANSWERS


def keyword(text: str) -> str:
    """'  vaksin! ' -> 'VAKSIN': case, spaces and punctuation do not matter."""
    return _KEYWORD.sub("", text.upper())


async def sms_message(ctx: DialogueContext, inbound: Inbound, layout: Layout) -> Outbound:
    # Per channel: a list paged for WhatsApp must not be answered by an SMS reply.
    ref = SessionRef(inbound.channel.value, inbound.msisdn, inbound.msisdn)
    stored = await ctx.store.load(ref, with_resume=False)
    session = stored.session
    if session is not None and session.screen not in ctx.menus.screens:
        session = None
    short = len(inbound.text) < KEYWORD_MAX_CHARS
    kw = ctx.menus.keywords.get(keyword(inbound.text)) if short else None
    error = ""
    if kw is not None:
        # The keyword's language is the conversation's, and the phone's from now on (as
        # chosen in USSD menu 4): stored with this hop's session write when it changes.
        session = Session(lang=kw.lang or _language(ctx, stored.language))
        session.vars.update(kw.set)
        turn = Turn(ctx, session, inbound.msisdn, inbound.channel.value)
        if kw.lang and kw.lang != stored.language:
            turn.language = kw.lang
        _count(inbound.channel, "started")
        await steps.enter(turn, kw.screen)
    elif session is not None and not session.finished:
        turn = Turn(ctx, session, inbound.msisdn, inbound.channel.value)
        error = await _answer(turn, inbound, layout)
        if _gave_up(turn, error):
            await steps.enter(
                turn, WRONG_ANSWERS_SCREEN if WRONG_ANSWERS_SCREEN in ctx.menus.screens else "help"
            )
            error = ""
    else:
        help_session = Session(lang=_language(ctx, stored.language), screen="help")
        view = build_view(ctx, help_session, long_form=layout.long_form, messages=True)
        return Outbound(layout.text(view), end=True, fallback=True, view=view)
    view, text, end = _shown(turn, error, layout)
    if end:
        _count(inbound.channel, "completed")
    session.hops += 1
    ttl = ctx.settings.sms_session_ttl_seconds
    await ctx.store.save(ref, session, ttl, language=turn.language)
    return Outbound(text, end, view=view)
