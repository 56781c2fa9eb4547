"""One hop end to end: load the session, recognise retransmits, apply the answer, save.

USSD: sessions are keyed by dialect, gateway session id and msisdn; a dropped
registration leaves a resume snapshot per msisdn, offered on the next dial.
SMS: one session per msisdn (long TTL); keywords (data in the menus) start a
dialogue from anywhere; an unknown text outside a session gets help, flagged
``fallback`` so the SMS channel can rate-limit auto-replies.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson

from dialogue import steps
from dialogue.model import Channel, Inbound, Outbound, SessionEvent
from dialogue.render import page_count

if TYPE_CHECKING:
    from dialogue.engine import Engine

_KEYWORD = re.compile(r"[^A-Z]")


def _loads(raw: str | None) -> dict[str, Any] | None:
    """A stored blob, read tolerantly: anything unreadable counts as absent."""
    if not raw:
        return None
    try:
        data = orjson.loads(raw)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return None
    return data if isinstance(data, dict) and "s" in data else None


def _dumps(obj: Any) -> bytes:
    # orjson: the session blob is encoded and decoded on every hop, ~5x faster than json.
    return orjson.dumps(obj)


def new_session(lang: str) -> dict[str, Any]:
    return {"s": "", "p": 0, "k": [], "v": {}, "l": lang, "h": None, "n": 0, "i": []}


def _retransmit(sess: dict[str, Any], inbound: Inbound) -> bool:
    last = sess.get("h")
    if inbound.hop is not None and last is not None:
        return inbound.hop <= last
    # Without hop numbers only a repeated "new session" can be told apart for sure.
    return inbound.event is SessionEvent.NEW and sess.get("n") == 1


def _resumable(sess: dict[str, Any], end: bool) -> bool:
    v = sess["v"]
    return not end and v.get("intent") == "register" and "nik" in v


async def _save(engine: Engine, sess: dict[str, Any], skey: str, rkey: str, ttl: int, end: bool):
    """One write: the session, plus the resume snapshot (or its removal) when that changes."""
    kv = engine.kv
    if _resumable(sess, end):
        sess["rw"] = 1
        blob = _dumps(sess)  # the resume snapshot is the session itself (one encoding)
        window = engine.settings.resume_window_seconds
        await kv.execute_many(("SET", skey, blob, "EX", ttl), ("SET", rkey, blob, "EX", window))
    elif end and sess.get("rw"):
        await kv.execute_many(("SET", skey, _dumps(sess), "EX", ttl), ("DEL", rkey))
    else:
        await kv.execute("SET", skey, _dumps(sess), "EX", ttl)


async def handle_ussd(engine: Engine, inbound: Inbound, limit: int) -> Outbound:
    keys, menus = engine.keys, engine.menus
    default = engine.settings.default_language
    skey = keys.dialogue_session(inbound.dialect, inbound.session_id, inbound.msisdn)
    rkey = keys.dialogue_resume(inbound.msisdn)
    if inbound.event in (SessionEvent.CLOSE, SessionEvent.TIMEOUT):
        await engine.kv.execute("DEL", skey)  # the resume snapshot stays for the next dial
        return Outbound("", end=True)
    if not engine.service_known(inbound.service_code):
        return engine.plain("unknown_service", default)
    raw, raw_resume, lang = await engine.kv.execute(
        "MGET", skey, rkey, keys.dialogue_language(inbound.msisdn)
    )
    sess = _loads(raw)
    resume = _loads(raw_resume)
    if sess is not None and _retransmit(sess, inbound):
        return Outbound(sess.get("r", ""), bool(sess.get("e")))
    error = ""
    if inbound.event is SessionEvent.NEW:
        sess = new_session(lang if lang in ("id", "en") else default)
        if resume is not None:
            sess["rw"] = 1  # finishing this session settles the old snapshot too
        turn = engine.new_turn(sess, inbound, resume)
        await steps.enter(turn, menus.resume if resume is not None else menus.start)
    else:
        if sess is None:
            return engine.plain("expired", lang if lang in ("id", "en") else default)
        if sess.get("x"):
            return engine.plain("ended", sess["l"])
        turn = engine.new_turn(sess, inbound, resume)
        pages = 1
        if menus.screens[sess["s"]].type == "list":
            pages = page_count(steps.view(turn), menus, sess["l"], limit)
        error = await steps.answer(turn, inbound.text, pages)
    end = menus.screens[sess["s"]].type == "end"
    text = engine.render(steps.view(turn, error), sess["l"], Channel.USSD, limit)
    sess["h"], sess["n"], sess["r"], sess["e"] = inbound.hop, sess["n"] + 1, text, end
    if end:
        sess["x"] = 1
    await _save(engine, sess, skey, rkey, engine.settings.session_ttl_seconds, end)
    return Outbound(text, end)


def keyword(text: str) -> str:
    """'  vaksin! ' -> 'VAKSIN': case, spaces and punctuation do not matter."""
    return _KEYWORD.sub("", text.upper())


async def handle_sms(engine: Engine, inbound: Inbound) -> Outbound:
    keys, menus = engine.keys, engine.menus
    default = engine.settings.default_language
    skey = keys.dialogue_session("sms", inbound.msisdn, inbound.msisdn)
    raw, lang = await engine.kv.execute("MGET", skey, keys.dialogue_language(inbound.msisdn))
    sess = _loads(raw)
    kw = menus.keywords.get(keyword(inbound.text)) if len(inbound.text) < 40 else None
    error = ""
    if kw is not None:
        sess = new_session(lang if lang in ("id", "en") else default)
        sess["v"].update(kw.set)
        turn = engine.new_turn(sess, inbound, None)
        await steps.enter(turn, kw.screen)
    elif sess is not None and not sess.get("x"):
        turn = engine.new_turn(sess, inbound, None)
        error = await steps.answer(turn, inbound.text, 1)
    else:
        sess = new_session(lang if lang in ("id", "en") else default)
        sess["s"] = "help"
        text = engine.render(
            steps.view(engine.new_turn(sess, inbound, None)), sess["l"], Channel.SMS, 0
        )
        return Outbound(text, end=True, fallback=True)
    end = menus.screens[sess["s"]].type == "end"
    text = engine.render(steps.view(turn, error), sess["l"], Channel.SMS, 0)
    sess["n"] += 1
    if end:
        sess["x"] = 1
    await engine.kv.execute(
        "SET", skey, _dumps(sess), "EX", engine.settings.sms_session_ttl_seconds
    )
    return Outbound(text, end)
