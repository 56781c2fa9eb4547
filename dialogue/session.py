"""The dialogue's session: what one conversation remembers between hops, and where it lives.

A :class:`Session` is encoded as one small JSON array (orjson; every hop decodes
and encodes it once) led by :data:`SESSION_FORMAT`. Reading is tolerant: a blob
that does not decode, or that an older release wrote, counts as absent (the
user sees "session ended" or a fresh start, never an error).

A :class:`SessionStore` keeps sessions, the resume snapshot of an unfinished
registration (a copy of the session, per phone), the phone's language and the
ticket re-send guard. ``dialogue.session_redis`` keeps them in Redis,
``dialogue.session_memory`` in a dict for unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple, Protocol

import orjson

# Bump when the encoding below changes; blobs of another format are ignored.
# Format 1 was the dictionary with one-letter keys of the first release.
SESSION_FORMAT = 2

Item = list[str]  # a list entry: [key, label] (as JSON keeps it: decoding stays cheap)
Place = tuple[str, int]  # a back-stack entry: (screen id, page)


@dataclass(slots=True)
class Session:
    lang: str  # "id" or "en"
    screen: str = ""  # the current screen's id in the menus
    page: int = 0  # the list page, or the screening question, on that screen
    stack: list[Place] = field(default_factory=list)  # where "0" goes back to
    vars: dict[str, str] = field(default_factory=dict)  # what the texts show ({name}...)
    answers: dict[str, bool] = field(default_factory=dict)  # screening group id -> yes
    items: list[Item] = field(default_factory=list)  # the current list's entries
    last_hop: int | None = None  # the gateway's hop number last answered
    hops: int = 0  # hops answered so far
    reply: str = ""  # the last answer's text, sent again for a retransmitted hop
    error: str = ""  # the last answer's error key (rebuilds its view on a retransmit)
    finished: bool = False  # an END screen was shown: nothing more is answered
    # A resume snapshot exists for this phone and this session settles it: written
    # while resumable, removed when the session ends.
    holds_resume: bool = False

    def resume_from(self, snapshot: Session) -> None:
        """Take over where `snapshot` stopped (screen, page, back stack, data, list)."""
        self.screen, self.page = snapshot.screen, snapshot.page
        self.stack, self.vars, self.answers = snapshot.stack, snapshot.vars, snapshot.answers
        self.items = snapshot.items


def encode(s: Session) -> bytes:
    """The session as a JSON array (positional: smaller and faster than named keys)."""
    return orjson.dumps(
        (
            SESSION_FORMAT,
            s.lang,
            s.screen,
            s.page,
            s.stack,
            s.vars,
            s.answers,
            s.items,
            s.last_hop,
            s.hops,
            s.reply,
            s.error,
            s.finished,
            s.holds_resume,
        )
    )


_FIELDS = 14


def decode(raw: str | bytes | None) -> Session | None:
    """A stored blob, read tolerantly: unreadable or of another format counts as absent."""
    if not raw:
        return None
    try:
        data = orjson.loads(raw)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return None
    if not isinstance(data, list) or len(data) != _FIELDS or data[0] != SESSION_FORMAT:
        return None
    try:
        data[4] = [(sid, pos) for sid, pos in data[4]]  # JSON has no tuples
    except (TypeError, ValueError):
        return None
    return Session(*data[1:])


class SessionRef(NamedTuple):
    """Which conversation: a gateway's USSD session, or a phone's SMS dialogue."""

    dialect: str  # "africastalking", ..., or "sms"
    session_id: str
    msisdn: str


class Stored(NamedTuple):
    """What one read returns: the session, the phone's resume snapshot and language."""

    session: Session | None
    resume: Session | None
    language: str | None


class ResumeWrite(Enum):
    KEEP = "keep"  # leave the phone's resume snapshot as it is
    SNAPSHOT = "snapshot"  # this session is the new snapshot
    CLEAR = "clear"  # remove the snapshot (the registration finished or was dropped)


class SessionStore(Protocol):
    """Sessions and the per-phone state around them. One read and one write per hop."""

    async def load(self, ref: SessionRef, *, with_resume: bool) -> Stored:
        """The session, the language and (when asked) the resume snapshot, in one read."""
        ...

    async def save(
        self,
        ref: SessionRef,
        session: Session,
        ttl_seconds: int,
        resume: ResumeWrite = ResumeWrite.KEEP,
        resume_ttl_seconds: int = 0,
        *,
        language: str = "",
    ) -> None:
        """Write the session (with the resume snapshot change and the phone's new
        `language`, when given) in one write."""
        ...

    async def resume(self, msisdn: str) -> Session | None:
        """The phone's resume snapshot alone (for the answer to the offer to resume)."""
        ...

    async def drop(self, ref: SessionRef) -> None:
        """Forget the session (the gateway closed it); the resume snapshot stays."""
        ...

    async def discard_resume(self, msisdn: str) -> None: ...

    async def set_language(self, msisdn: str, lang: str) -> None:
        """The phone's language alone (the dialogue stores it with a session write)."""
        ...

    async def claim_resend(self, msisdn: str, code: str, seconds: int) -> bool:
        """True (and blocks further re-sends for `seconds`) when a re-send is allowed now."""
        ...
