"""What the development SMSC remembers: counters, the MT texts per number, the bound
ESMEs and the USSD handsets. The control port reads and switches it."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from devtools.smsc_settings import SimSettings
from devtools.smsc_ussd import Handsets
from smpp import codec

# (sender, text part, (ref, total, seq) or None)
MtPart = tuple[str, str, tuple[int, int, int] | None]


class Peer(Protocol):
    """One ESME connection as the senders of deliver_sm see it."""

    bound: int
    dead: bool
    submits: int
    transport: asyncio.Transport | None

    def send_pdu(self, build: Callable[[int], bytes]) -> bytes: ...

    def resend(self, pdu: bytes) -> None: ...


@dataclass
class SimState:
    settings: SimSettings
    record_text: bool = True
    submits: int = 0
    throttled: int = 0
    next_id: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Last MT messages per destination.
    texts: dict[str, deque[MtPart]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=50))
    )
    deliver_resp: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    deliver_resp_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=200))
    responses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rate_window: deque[float] = field(default_factory=deque)
    connections: list[Peer] = field(default_factory=list)
    binds_rejected: int = 0
    drops: int = 0
    # The last binds and dropped connections: (monotonic time, "bind" or "drop").
    events: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=200))
    # Submits of each connection that has closed (the open ones count their own).
    closed_submits: deque[int] = field(default_factory=lambda: deque(maxlen=200))
    # The numbers whose part `refuse_part` was refused already (once each).
    refused: set[str] = field(default_factory=set)
    # Each phone's last MO as sent (every part, its sequence number in it), to send again.
    last_mo: dict[str, list[bytes]] = field(default_factory=dict)
    handsets: Handsets = field(init=False)

    def __post_init__(self) -> None:
        self.handsets = Handsets(lambda: self.settings.ussd_variant)


LAST_MO_PHONES = 10_000  # the phones whose last MO is kept (a benchmark injects many)


def remember_mo(state: SimState, sender: str, pdus: list[bytes]) -> None:
    state.last_mo.pop(sender, None)  # to the end: the oldest is forgotten first
    state.last_mo[sender] = pdus
    if len(state.last_mo) > LAST_MO_PHONES:
        del state.last_mo[next(iter(state.last_mo))]


def receiving_connection(state: SimState) -> Peer | None:
    for conn in state.connections:
        if conn.bound in (codec.BIND_RECEIVER, codec.BIND_TRANSCEIVER) and not conn.dead:
            return conn
    return None


def messages_to(state: SimState, msisdn: str) -> list[tuple[str, str]]:
    """(sender, text) of MT messages received for a number, multipart sets joined."""
    result: list[tuple[str, str]] = []
    pending: dict[tuple[str, int, int], dict[int, str]] = {}
    for sender, text, ref in state.texts.get(msisdn, ()):
        if ref is None or ref[1] == 1:
            result.append((sender, text))
            continue
        key = (sender, ref[0], ref[1])
        parts = pending.setdefault(key, {})
        parts[ref[2]] = text
        if len(parts) == ref[1]:
            result.append((sender, "".join(parts[i] for i in range(1, ref[1] + 1))))
            del pending[key]
    return result
