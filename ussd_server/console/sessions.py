"""Console sign-ins: a signed session cookie backed by a Redis hash, and a login limiter.

The cookie is ``<session id>.<expiry>.<signature>`` (HMAC-SHA256 with ``[console]
session_key``): a forged or altered one is refused without asking Redis, and
signing out deletes the hash, so a copied cookie stops working too. The hash
also keeps the registrant references handed out in pages (``ref:<id>`` -> NIK):
a form names a registrant by a reference that means nothing outside this
sign-in, so no NIK travels in a URL or sits in a page's source.

A password sign-in also keeps a fingerprint of the agent's stored hash: each
request compares it with the agents file as it is now, so removing an agent or
changing their password ends their open sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from core import redis_scripts
from core.digits import is_digits
from core.redis_wire import Script
from core.secret_compare import same_secret
from ussd_server.console.agents import AgentFile
from ussd_server.console.passwords import AgentFileError
from ussd_server.keys import ShellKeys

log = logging.getLogger(__name__)

# Counts one sign-in attempt back (it succeeded, or was never checked), unless the
# window has ended meanwhile: a DECR then would leave a -1 with no expiry.
REFUND = Script("if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end")


@dataclass(frozen=True, slots=True)
class Agent:
    name: str  # the operator token's label or the agents file's name
    session_id: str


class Sessions:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: ShellKeys,
        secret: str,
        lifetime_seconds: int,
        agents: AgentFile | None = None,
        clock: Callable[[], float] = time.time,
        tokens: frozenset[str] = frozenset(),
    ) -> None:
        self._redis, self._keys, self._clock = redis, keys, clock
        self._agents = agents
        self._tokens = tokens  # the operator tokens' fingerprints (tokens.token_fingerprint)
        self._key = hashlib.sha256(("console-session:" + secret).encode()).digest()
        self.lifetime = lifetime_seconds

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:40]

    async def open(self, agent: str, how: str, fingerprint: str = "") -> str:
        """A new sign-in for ``agent`` (``fingerprint``: AgentFile.fingerprint for a
        password sign-in, tokens.token_fingerprint for a token's); returns the cookie."""
        session_id = secrets.token_urlsafe(18)
        expires = int(self._clock()) + self.lifetime
        key = self._keys.console_session(session_id)
        fields = {"agent": agent, "how": how, "expires": expires, "fingerprint": fingerprint}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, self.lifetime)
            await pipe.execute()
        body = f"{session_id}.{expires}"
        return f"{body}.{self._sign(body)}"

    def session_id(self, cookie: str) -> str | None:
        """The session id of a well-signed, unexpired cookie (no Redis asked)."""
        if not cookie.isascii():  # never one of ours (and _sign could not encode it)
            return None
        session_id, _, rest = cookie.partition(".")
        expires, _, signature = rest.partition(".")
        if not (session_id and is_digits(expires) and signature):
            return None
        if not same_secret(signature, self._sign(f"{session_id}.{expires}")):
            return None
        return session_id if int(expires) > self._clock() else None

    async def agent(self, cookie: str) -> Agent | None:
        """Who holds this cookie, if the sign-in is still open."""
        session_id = self.session_id(cookie)
        if session_id is None:
            return None
        key = self._keys.console_session(session_id)
        name, how, fingerprint = await self._redis.hmget(key, "agent", "how", "fingerprint")
        if not name:
            return None
        if how == "password" and not self._same_password(name, fingerprint or ""):
            return None
        if how == "token" and fingerprint not in self._tokens:
            return None  # the token left the file (the server read it again at its start)
        return Agent(name, session_id)

    def _same_password(self, name: str, fingerprint: str) -> bool:
        """Whether ``name`` is still an agent with the password they signed in with."""
        if self._agents is None or not fingerprint:  # no file now, or an older session
            return False
        try:
            return same_secret(self._agents.fingerprint(name) or "-", fingerprint)
        except AgentFileError as exc:  # fail closed: sign-in says why, token sign-ins work
            log.warning("console agents file: %s; password sessions are refused", exc)
            return False

    async def close(self, session_id: str) -> None:
        await self._redis.delete(self._keys.console_session(session_id))

    def reference(self, session_id: str, nik: str) -> str:
        """The same registrant gets the same reference within one sign-in."""
        return self._sign(f"ref:{session_id}:{nik}")[:20]

    async def remember(self, session_id: str, niks: list[str]) -> dict[str, str]:
        """References for ``niks`` (nik -> ref), kept with the sign-in."""
        refs = {nik: self.reference(session_id, nik) for nik in niks}
        if refs:
            key = self._keys.console_session(session_id)
            await self._redis.hset(key, mapping={f"ref:{r}": nik for nik, r in refs.items()})
        return refs

    async def recall(self, session_id: str, ref: str) -> str | None:
        """The NIK behind a reference this sign-in handed out, else None."""
        if not ref.isalnum() or len(ref) > 40:
            return None
        return await self._redis.hget(self._keys.console_session(session_id), f"ref:{ref}")


class LoginLimiter:
    """At most ``attempts`` failed sign-ins per client address per window.

    An attempt is counted before its credentials are checked (:meth:`take`), so
    sign-ins sent at once cannot all be checked against the one count they all read;
    a successful one is counted back (:meth:`refund`).
    """

    def __init__(
        self, redis: aioredis.Redis, keys: ShellKeys, attempts: int, window_seconds: int
    ) -> None:
        self._redis, self._keys = redis, keys
        self.attempts, self.window = attempts, window_seconds

    async def take(self, address: str) -> int:
        """Count one attempt from ``address``: its number in this window (past
        ``attempts``, it must not be checked)."""
        key = self._keys.console_login_failures(address)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self.window, nx=True)
            attempts, _ = await pipe.execute()
        return int(attempts)

    async def refund(self, address: str) -> None:
        await redis_scripts.run_one(
            self._redis, REFUND, [self._keys.console_login_failures(address)], []
        )
