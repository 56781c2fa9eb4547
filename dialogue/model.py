"""The one small message model between channel adapters and the dialogue.

A USSD gateway dialect or the SMPP connection translates its own request into
an :class:`Inbound` and the dialogue's :class:`Outbound` back into its own
format. Nothing past this line knows a gateway field name or a PDU.

Every answer carries the screen twice: as text laid out for the channel
(``Outbound.text``) and as a structured :class:`View` (``Outbound.view``) from
which a richer edge (WhatsApp buttons and lists, a web form) builds its own form
without parsing text. A channel says how it lays screens out with a
:class:`Layout`; the engine asks it how many pages a list has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

# Navigation answers understood on every screen of every channel (typed, or as a
# button's key): previous page/screen, main menu, next page of a list.
BACK = "0"
MAIN_MENU = "00"
NEXT_PAGE = "98"
NAVIGATION = frozenset({BACK, MAIN_MENU, NEXT_PAGE})


class Channel(StrEnum):
    USSD = "ussd"
    SMS = "sms"
    # The registration website: a session per browser session, like a USSD dial (hop
    # numbers, resume), with the long form texts; it starts at the menus' `web` entry.
    WEB = "web"
    # WhatsApp (Business Cloud API): a message channel, like SMS.
    WHATSAPP = "whatsapp"


# Message channels: one conversation per phone (long TTL), keywords start the dialogue
# anywhere, unknown text outside a conversation gets help; screens in their long form.
MESSAGE_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})


class SessionEvent(StrEnum):
    NEW = "new"  # the user dialled / first message: start (or offer resume)
    CONTINUE = "continue"  # an answer inside a running session
    CLOSE = "close"  # the gateway says the user hung up or the session ended
    TIMEOUT = "timeout"  # the gateway timed the session out


@dataclass(slots=True)
class Inbound:
    """One message from a phone, as every edge translates it (read-only by convention, like
    :class:`View`: one is built per hop and a frozen dataclass costs more to construct)."""

    channel: Channel
    # Which adapter produced it ("africastalking", "hubtel", "json", "smpp", "whatsapp").
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
    # The key of the option or list item the user picked (a WhatsApp button or
    # list reply, a web form's choice), instead of typed text. A key that is not
    # on the current screen (an old button) is answered like an invalid choice.
    choice: str = ""
    # The language the channel shows ("id", "en"; "" = the session's own): the web
    # page's language switch. The session takes it before the answer is applied.
    lang: str = ""


class ViewKind(StrEnum):
    MENU = "menu"  # options to pick one of
    YESNO = "yesno"  # a yes/no question (options: yes, no)
    INPUT = "input"  # free text, checked against `input_pattern`
    LIST = "list"  # a dynamic list (facilities, slots), paged by the channel's layout
    END = "end"  # a final text: the session is over


# One option or list item: (key, label). The key is stable: an edge sends it back as
# ``Inbound.choice``. Typed answers number options from 1 in order (list items
# across all pages). A plain pair, not an object: lists of 60 stay cheap per hop.
Choice = Sequence[str]


@dataclass(slots=True)
class View:
    """One screen as data, in the session's language, before any channel lays it out.

    Read-only by convention (not frozen: one is built per hop, and frozen
    dataclasses cost several times more to construct).
    """

    kind: ViewKind
    screen_id: str  # the screen's name in menus/dialogue.toml ("" for a notice)
    lang: str
    body: str
    options: tuple[Choice, ...] = ()  # menu options, or yes and no
    items: tuple[Choice, ...] = ()  # a dynamic list's entries (all pages)
    page: int = 0  # the list page (or screening question) the user is on
    error: str = ""  # shown above the screen after a wrong answer
    input_pattern: str = ""  # INPUT: what the answer must match (after removing spaces)
    ticket_code: str = ""  # when the dialogue knows the user's ticket
    qr_link: str = ""  # the ticket's QR image (public address), with ticket_code
    video_link: str = ""  # "how the vaccine works"


class Layout(Protocol):
    """How one channel shows screens: its paging and its text form.

    The engine asks ``pages`` when the user answers ``98`` on a list, so each
    channel pages lists its own way (USSD by septets, WhatsApp by 10 rows).
    """

    # True when the channel has room for a screen's long form (`sms_text`: links).
    long_form: bool

    def pages(self, view: View) -> int: ...

    def text(self, view: View) -> str: ...


@dataclass(slots=True)
class Outbound:
    """The answer to one message (read-only by convention, like :class:`View`)."""

    text: str
    end: bool
    # True when the engine did not understand a message outside any session and
    # answered with help: the SMS channel rate-limits these so that two
    # automated senders cannot loop on each other.
    fallback: bool = False
    # The same screen as data, for edges that draw their own (None: nothing to show).
    view: View | None = None
    # True when the hop failed on our side (Redis away...) and got the "busy" screen.
    busy: bool = False

    @property
    def outcome(self) -> str:
        """How metrics count this answer: "busy", "end" or "continue"."""
        return "busy" if self.busy else "end" if self.end else "continue"

    @property
    def screen(self) -> str:
        """The screen this answer shows, as metrics name it: the menus' id, "busy", or
        "notice" for a shared text (expired, unknown service code)."""
        if self.busy:
            return "busy"
        return (self.view and self.view.screen_id) or "notice"


class Dialogue(Protocol):
    """What an edge needs of the dialogue engine (``dialogue.engine.Engine``)."""

    async def handle(
        self, inbound: Inbound, *, max_chars: int = 0, layout: Layout | None = None
    ) -> Outbound: ...
