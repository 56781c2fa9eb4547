"""What a hop works with: the narrow context actions and steps receive, and the turn itself.

Actions never see the engine: they get a :class:`Turn` holding the session
being answered and a :class:`DialogueContext` with exactly the services the
dialogue uses (domain calls, SMS outbox, texts, settings, session store, clock,
small caches).
"""

from __future__ import annotations

from dataclasses import dataclass

from dialogue.lookups import Lookups
from dialogue.menus import Menus
from dialogue.ports import Clock, Registry, SmsOutbox
from dialogue.session import Session, SessionStore
from dialogue.settings import EngineSettings


@dataclass(frozen=True, slots=True)
class DialogueContext:
    registry: Registry
    outbox: SmsOutbox
    menus: Menus  # screens and texts
    settings: EngineSettings
    store: SessionStore
    clock: Clock
    lookups: Lookups


@dataclass(slots=True)
class Turn:
    """One hop being answered: the session and who is talking, over which channel."""

    ctx: DialogueContext
    session: Session
    msisdn: str
    channel: str  # "ussd", "sms" (the Registry records where a booking came from)
    resume: Session | None = None  # the phone's resume snapshot, if any
    # The phone's language to store with this hop's session write ("": unchanged): menu 4
    # or a keyword chose it. Riding that write costs no round trip of its own.
    language: str = ""

    @property
    def vars(self) -> dict[str, str]:
        return self.session.vars

    @property
    def lang(self) -> str:
        return self.session.lang

    async def drop_resume(self) -> None:
        """The registration has moved on (booked elsewhere): no snapshot to offer any more."""
        self.resume, self.session.holds_resume = None, False
        self.vars["intent"] = "status"  # from now on this session shows, it registers nothing
        await self.ctx.store.discard_resume(self.msisdn)
