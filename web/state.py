"""One browser's session on the site: the cookie that names it and what Redis keeps for it.

The cookie holds a random id only (HttpOnly, SameSite=Strict, Secure over https);
everything else stays on the server, so no personal data ever travels in a URL or
a cookie. Redis keys and the dialogue see a hash of the id, never the id itself.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import orjson
from aiohttp import web

from core.redis_lean import FastRedis
from dialogue.menus import LANGUAGES
from web.keys import WebKeys

COOKIE = "daftar_session"
# The language a visitor picked before giving a phone: kept by the browser, so that a
# visitor who only looks around costs Redis nothing.
LANG_COOKIE = "daftar_lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
PATH = "/daftar"
_ID = re.compile(r"[A-Za-z0-9_-]{32}")
STATE_FORMAT = 1


@dataclass(slots=True)
class WebState:
    lang: str
    pending: str = ""  # a phone waiting for its one-time code (62...)
    phone: str = ""  # the phone its code proved: the dialogue's msisdn
    hop: int = 0  # the last dialogue hop sent (0: the dialogue has not started)


def new_session_id() -> str:
    return secrets.token_urlsafe(24)


def session_id(request: web.Request) -> str:
    """The browser's session id from its cookie ("" when there is none or it is malformed)."""
    value = request.cookies.get(COOKIE, "")
    return value if _ID.fullmatch(value) else ""


def set_cookie(
    response: web.StreamResponse, request: web.Request, sid: str, *, always_secure: bool
) -> None:
    """`always_secure`: behind a TLS-terminating proxy the request itself looks like http."""
    secure = always_secure or request.secure
    response.set_cookie(COOKIE, sid, path=PATH, httponly=True, samesite="Strict", secure=secure)


def chosen_language(request: web.Request, default: str) -> str:
    """The language of the visitor's cookie (a known one), else `default`."""
    lang = request.cookies.get(LANG_COOKIE, "")
    return lang if lang in LANGUAGES else default


def set_language_cookie(
    response: web.StreamResponse, request: web.Request, lang: str, *, always_secure: bool
) -> None:
    secure = always_secure or request.secure
    response.set_cookie(
        LANG_COOKIE, lang, path=PATH, httponly=True, samesite="Strict", secure=secure,
        max_age=LANG_COOKIE_SECONDS,
    )  # fmt: skip


def session_hash(sid: str) -> str:
    """What Redis keys and the dialogue know the session by."""
    return hashlib.sha256(sid.encode()).hexdigest()[:32]


def _encode(state: WebState) -> bytes:
    return orjson.dumps((STATE_FORMAT, state.lang, state.pending, state.phone, state.hop))


def _decode(raw: str | None) -> WebState | None:
    if not raw:
        return None
    try:
        data = orjson.loads(raw)
        if data[0] != STATE_FORMAT:
            return None
        return WebState(*data[1:])
    except (ValueError, TypeError, IndexError, KeyError):
        return None  # unreadable: as good as expired


class StateStore:
    """Browser sessions in Redis, living `ttl_seconds` after their last form."""

    def __init__(self, kv: FastRedis, keys: WebKeys, ttl_seconds: int) -> None:
        self._kv, self._keys, self._ttl = kv, keys, ttl_seconds

    async def load(self, sid: str) -> WebState | None:
        if not sid:
            return None
        return _decode(await self._kv.execute("GET", self._keys.web_state(session_hash(sid))))

    async def save(self, sid: str, state: WebState) -> None:
        key = self._keys.web_state(session_hash(sid))
        await self._kv.execute("SET", key, _encode(state), "EX", self._ttl)

    async def drop(self, sid: str) -> None:
        await self._kv.execute("DEL", self._keys.web_state(session_hash(sid)))
