"""What one connection answers to each deliver_sm (and data_sm), a retransmission included.

SMPP MOs carry no message id. When our deliver_sm_resp is lost or late, an SMSC whose
response timer ran out sends the same deliver_sm again: the same bytes under the same
sequence_number, the number that ties a request to its response on the session. It
used to be handled again: a "1" answered two screens. A user who sends the same text
again makes a new deliver_sm, which the SMSC numbers anew on the session, so it is
never taken for a retransmission.

So each connection remembers, for ``[smpp] retransmit_window`` seconds, the sequence
numbers of the SMS and receipts it got and a digest of each body (sender, recipient,
text, UDH, TLVs: every part of a long SMS is its own PDU). Per connection, in memory,
because the numbers are the session's own: an SMSC numbers a new bind afresh (often
from 1 again), so the same number on another connection is another message, and a
user's genuine answer can never be swallowed for matching one. A resend on another
connection (after a reconnect) comes under the new session's numbering, which nothing
can tell from the user's own repeat: it is handled. It costs no Redis round trip.

A copy that arrives while its original is still being handled (our answer was late,
not lost) waits for the original's outcome: ROK, and the copy is answered ROK without
being handled; anything else (Redis away: a temporary error), and the copy is handled
itself, because the SMSC sends what failed again and that must go through. USSD hops
are left to their edge, which knows a repeated hop of its own (docs/ussd-smpp.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core import metrics
from smpp import codec
from smpp.settings import BindSettings

log = logging.getLogger(__name__)

# A deliver_sm handler gets the message and the bind it came on (a USSD answer goes
# back on that bind) and returns the command_status to answer with.
DeliverHandler = Callable[[codec.ShortMessage, BindSettings], Awaitable[int]]
# Sequence numbers remembered per connection at most (1,000 MO/s for 60 s is 60,000;
# about 250 bytes each, 25 MB at most); past it the oldest go first: a copy of one of
# them would be handled again.
LIMIT = 100_000


@dataclass(slots=True)
class _Seen:
    digest: int
    at: float
    # The status its deliver_sm_resp carried; while it is being handled, a future of it.
    outcome: int | asyncio.Future[int]


class Retransmits:
    """The deliver_sm of one connection by sequence number, for ``window`` seconds."""

    def __init__(self, window: float, name: str = "smpp", limit: int = LIMIT) -> None:
        self.window = window
        self.name = name
        self.limit = limit
        self._seen: OrderedDict[int, _Seen] = OrderedDict()  # oldest first

    async def answer(self, frame: codec.Frame, handle: Callable[[], Awaitable[int]]) -> int:
        """ROK for a copy of a deliver_sm answered ROK; else what ``handle()`` returns."""
        if self.window <= 0:
            return await handle()
        mine: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        entry, earlier = self._remember(frame, mine)
        status = codec.ESME_RX_T_APPN  # cancelled meanwhile: a copy is handled itself
        try:
            if isinstance(earlier, asyncio.Future):  # the original is still being handled
                earlier = await asyncio.shield(earlier)
            if earlier == codec.ESME_ROK:
                metrics.SMPP_RETRANSMITS.inc()
                log.debug("%s deliver_sm %d sent again: ROK, not handled again", self.name,
                          frame.sequence)  # fmt: skip
                status = codec.ESME_ROK
            else:
                status = await handle()
            return status
        finally:
            mine.set_result(status)
            entry.outcome = status  # a plain int from now on: the future is let go

    def _remember(
        self, frame: codec.Frame, mine: asyncio.Future[int]
    ) -> tuple[_Seen, int | asyncio.Future[int] | None]:
        """Record this PDU; its entry and the outcome of an earlier identical one."""
        now = time.monotonic()
        seen = self._seen
        while seen and now - next(iter(seen.values())).at >= self.window:
            seen.popitem(last=False)
        # Python's hash of the body: 64 bits, compared in this process only.
        digest = hash(frame.body)
        earlier = seen.pop(frame.sequence, None)
        entry = seen[frame.sequence] = _Seen(digest, now, mine)
        if len(seen) > self.limit:
            seen.popitem(last=False)
        same = earlier is not None and earlier.digest == digest
        return entry, earlier.outcome if same else None  # type: ignore[union-attr]


class Deliveries:
    """Parses each deliver_sm / data_sm of a connection and finds the status to answer."""

    def __init__(
        self,
        on_deliver: DeliverHandler | None,
        bind: BindSettings,
        name: str,
        stats: dict[str, int],
    ) -> None:
        self.on_deliver = on_deliver
        self.bind = bind
        self.name = name
        self.stats = stats
        self.retransmits = Retransmits(bind.retransmit_window, name)

    async def status(self, frame: codec.Frame) -> int:
        try:
            sm = codec.parse_incoming(frame.command_id, frame.body)
        except codec.PduError as exc:
            self.stats["bad_pdus"] += 1
            log.warning("%s unparseable deliver_sm (%s): rejected", self.name, exc)
            return codec.ESME_RX_P_APPN
        if codec.is_ussd(sm):
            return await self._handle(sm)
        return await self.retransmits.answer(frame, lambda: self._handle(sm))

    async def _handle(self, sm: codec.ShortMessage) -> int:
        if self.on_deliver is None:
            return codec.ESME_ROK
        try:
            return await self.on_deliver(sm, self.bind)
        except Exception:
            log.exception("%s deliver_sm handler failed", self.name)
            return codec.ESME_RX_T_APPN  # temporary: the SMSC will retry it
