"""In-process dialogue tests: the engine on the in-memory session store, a phone that talks to it.

No server and no Redis: the engine is built exactly as ``build_context`` builds it,
with :class:`dialogue.session_memory.MemorySessionStore`, an outbox that keeps
what it is given, a clock the test moves, and a Registry the test passes in
(``registration.memory.memory_registry`` for the dialogue flow tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.config import Config
from core.outbox import OutboundSms
from dialogue.actions import ACTIONS
from dialogue.engine import Engine
from dialogue.menus import Menus, load_menus
from dialogue.model import Channel, Inbound, Layout, Outbound, SessionEvent
from dialogue.ports import Registry
from dialogue.session_memory import MemorySessionStore
from tests.test_registration_support import FakeClock

MENUS_FILE = Path(__file__).resolve().parent.parent / "menus" / "dialogue.toml"


def shipped_menus() -> Menus:
    return load_menus(MENUS_FILE, ACTIONS)


@dataclass
class KeptOutbox:
    """An SMS outbox that keeps what is queued (once per dedupe key, as the real one)."""

    sent: list[OutboundSms] = field(default_factory=list)

    async def enqueue(self, sms: OutboundSms) -> bool:
        if any(s.dedupe_key == sms.dedupe_key for s in self.sent):
            return False
        self.sent.append(sms)
        return True

    async def enqueue_nowait(self, sms: OutboundSms) -> None:
        await self.enqueue(sms)


@dataclass
class Dialogue:
    """An engine on memory stores, with the pieces a test looks at."""

    engine: Engine
    sessions: MemorySessionStore
    outbox: KeptOutbox
    clock: FakeClock


def memory_dialogue(config: Config, registry: Registry, clock: FakeClock) -> Dialogue:
    sessions, outbox = MemorySessionStore(clock), KeptOutbox()
    engine = Engine.from_config(config, registry, sessions, outbox=outbox, clock=clock)
    return Dialogue(engine, sessions, outbox, clock)


@dataclass
class Handset:
    """A phone on a USSD gateway that numbers its hops (like Hubtel's Sequence)."""

    engine: Engine
    msisdn: str
    session_id: str
    max_chars: int = 160
    layout: Layout | None = None
    numbered: bool = True  # False: a gateway that gives no hop numbers
    hop: int = 0
    last: Inbound | None = None

    async def _send(self, inbound: Inbound) -> Outbound:
        self.last = inbound
        return await self.engine.handle(inbound, max_chars=self.max_chars, layout=self.layout)

    def _inbound(self, event: SessionEvent, text: str, choice: str = "") -> Inbound:
        return Inbound(
            Channel.USSD, "json", self.session_id, self.msisdn, "*119#", event, text,
            hop=self.hop if self.numbered else None, choice=choice,
        )  # fmt: skip

    async def dial(self) -> Outbound:
        self.hop = 0
        return await self._send(self._inbound(SessionEvent.NEW, ""))

    async def send(self, text: str) -> Outbound:
        self.hop += 1
        return await self._send(self._inbound(SessionEvent.CONTINUE, text))

    async def pick(self, key: str) -> Outbound:
        """Choose by key, as a WhatsApp button or a web form does."""
        self.hop += 1
        return await self._send(self._inbound(SessionEvent.CONTINUE, "", key))

    async def resend_last(self) -> Outbound:
        """The gateway did not get our answer and sends the same hop again."""
        assert self.last is not None
        return await self._send(self.last)

    async def hang_up(self) -> Outbound:
        return await self._send(self._inbound(SessionEvent.CLOSE, ""))


async def sms(engine: Engine, text: str, msisdn: str) -> Outbound:
    inbound = Inbound(Channel.SMS, "smpp", msisdn, msisdn, "1199", SessionEvent.CONTINUE, text)
    return await engine.handle(inbound)
