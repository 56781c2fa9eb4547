"""The ticket on a page: its code, its QR as inline SVG, the dose-2 date and the video link.

Shown where the dialogue's long form text links to the QR image (the screens that
show the ticket: "registered", "status"), and only while the ticket is active.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from datetime import date
from typing import Protocol

from dialogue.model import View
from registration.models import RegistrantStatus, Ticket, TicketState
from web import kit
from web.texts import WebTexts

_SVG_OPEN = re.compile(r"<svg\b[^>]*>")
_VIEWBOX = re.compile(r'viewBox="([^"]*)"')
QR_CACHE_SIZE = 256  # QR drawings kept per process (a ticket page is often reloaded)


class TicketSource(Protocol):
    """What the site needs of the Registry (``registration.service.Registry``)."""

    async def ticket(self, code: str) -> Ticket | None: ...

    async def status_by_nik(self, nik: str) -> RegistrantStatus | None: ...

    def ticket_svg(self, ticket: Ticket) -> bytes: ...

    def planned_dose2(self, ticket: Ticket) -> date | None: ...


def day_text(day: date) -> str:
    return f"{day:%d/%m/%Y}"


class TicketCards:
    """Draws ticket cards; remembers recent QR drawings (their payload never changes)."""

    def __init__(self, registry: TicketSource, texts: WebTexts) -> None:
        self._registry, self._texts = registry, texts
        self._svgs: OrderedDict[str, tuple[str, str]] = OrderedDict()

    async def _qr(self, ticket: Ticket, label: str) -> str:
        """Inline: no XML declaration, sized by the page's style, named for screen readers."""
        drawing = self._svgs.get(ticket.payload)
        if drawing is None:
            # Drawing a QR takes tens of milliseconds of pure Python: not on the event loop.
            raw = (await asyncio.to_thread(self._registry.ticket_svg, ticket)).decode()
            opening = _SVG_OPEN.search(raw)
            if opening is None:
                return ""
            box = _VIEWBOX.search(opening.group(0))
            drawing = (box.group(1) if box else "0 0 1 1", raw[opening.end() :])
            self._svgs[ticket.payload] = drawing
            if len(self._svgs) > QR_CACHE_SIZE:
                self._svgs.popitem(last=False)
        box, inner = drawing
        return (
            f'<svg viewBox="{box}" xmlns="http://www.w3.org/2000/svg" role="img"'
            f' aria-label="{kit.esc(label)}">{inner}'
        )

    async def _dose2(self, ticket: Ticket, lang: str) -> str:
        status = await self._registry.status_by_nik(ticket.nik)
        if status is not None and status.dose2_due is not None:
            return self._texts.get("dose2_due", lang, day=day_text(status.dose2_due))
        planned = self._registry.planned_dose2(ticket)  # the interval of the age band
        if planned is not None:
            return self._texts.get("dose2_planned", lang, day=day_text(planned))
        return ""

    async def card(self, view: View) -> str:
        """The card for this screen, or "" (no ticket shown here, or not active)."""
        if not view.ticket_code or not view.qr_link or view.qr_link not in view.body:
            return ""
        ticket = await self._registry.ticket(view.ticket_code)
        if ticket is None or ticket.state is not TicketState.ACTIVE:
            return ""
        lang, texts = view.lang, self._texts
        label = texts.get("qr_label", lang, code=ticket.code)
        dose2 = await self._dose2(ticket, lang)
        video = (
            f'<p><a href="{kit.esc(view.video_link)}">{kit.esc(texts.get("video", lang))}</a></p>'
            if view.video_link
            else ""
        )
        return (
            f'<section class="ticket" aria-labelledby="ticket-h">'
            f'<h2 id="ticket-h">{kit.esc(texts.get("ticket_heading", lang))}</h2>'
            f'<p class="code">{kit.esc(ticket.code)}</p>{await self._qr(ticket, label)}'
            f"<p>{kit.esc(label)}</p>"
            f"{f'<p><strong>{kit.esc(dose2)}</strong></p>' if dose2 else ''}{video}</section>"
        )
