"""The one small message model between channel adapters and the dialogue.

A USSD gateway dialect or the SMPP connection translates its own request into
an :class:`Inbound` and the dialogue's :class:`Outbound` back into its own
format. Nothing past this line knows a gateway field name or a PDU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Channel(StrEnum):
    USSD = "ussd"
    SMS = "sms"


class SessionEvent(StrEnum):
    NEW = "new"  # the user dialled / first message: start (or offer resume)
    CONTINUE = "continue"  # an answer inside a running session
    CLOSE = "close"  # the gateway says the user hung up or the session ended
    TIMEOUT = "timeout"  # the gateway timed the session out


@dataclass(frozen=True, slots=True)
class Inbound:
    channel: Channel
    # Which adapter produced it ("africastalking", "hubtel", "json", "smpp").
    dialect: str
    session_id: str
    msisdn: str  # normalised 62... form
    service_code: str
    event: SessionEvent
    # The user's latest input only (adapters with cumulative text split it off).
    text: str
    # Position of this hop in the session when the gateway tells us (cumulative
    # text gives it for free); used to recognise a retransmitted hop.
    hop: int | None = None
    extras: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outbound:
    text: str
    end: bool
    # True when the engine did not understand a message outside any session and
    # answered with help: the SMS channel rate-limits these so that two
    # automated senders cannot loop on each other.
    fallback: bool = False


class Dialogue(Protocol):
    """What an edge needs of the dialogue engine (``dialogue.engine.Engine``)."""

    async def handle(self, inbound: Inbound, *, max_chars: int = 0) -> Outbound: ...
