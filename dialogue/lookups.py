"""Small per-process caches and formatting the screens share: names, days, tickets."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import date

from dialogue.gsm import to_gsm
from dialogue.menus import LANGUAGES, Menus, fill
from dialogue.ports import Registry
from dialogue.settings import EngineSettings
from registration.models import Ticket

_NAMES_SECONDS = 60.0  # facility names change rarely; a minute of staleness is harmless
FACILITY_NAME_CHARS = 40  # a facility's name on a screen (lists must stay readable)
_MAX_SLOT_TEXTS = 10_000  # list lines kept (a few dozen a day are in use)


class Lookups:
    """One per engine: cached facility names, day and ticket texts."""

    def __init__(
        self,
        registry: Registry,
        menus: Menus,
        settings: EngineSettings,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry, self._menus, self._settings = registry, menus, settings
        self._monotonic = monotonic
        self.weekdays = {lang: menus.text("weekdays", lang).split(",") for lang in LANGUAGES}
        self._names: dict[str, tuple[float, str]] = {}
        # (day, session id, label, lang) -> (list key, "Kam 03/12 08:00-12:00"): the same
        # few dozen times are listed to everyone of a day.
        self._slot_texts: dict[tuple[date, str, str, str], tuple[str, str]] = {}

    async def facility_name(self, facility_id: str) -> str:
        now = self._monotonic()
        hit = self._names.get(facility_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        facility = await self._registry.facility(facility_id)
        name = to_gsm(facility.name)[:FACILITY_NAME_CHARS] if facility is not None else facility_id
        self._names[facility_id] = (now + _NAMES_SECONDS, name)
        return name

    def day_text(self, day: date, lang: str) -> str:
        """'Sab 28/11': short enough for a list line (formatted by hand: strftime cost more
        than the rest of a list line)."""
        return f"{self.weekdays[lang][day.weekday()]} {day.day:02d}/{day.month:02d}"

    def slot_text(self, day: date, session_id: str, label: str, lang: str) -> tuple[str, str]:
        """A time's list key and its line without the seats: ("2021-01-14|pagi", "Kam
        14/01 08:00-12:00"), made once and kept."""
        key = (day, session_id, label, lang)
        known = self._slot_texts.get(key)
        if known is None:
            if len(self._slot_texts) > _MAX_SLOT_TEXTS:  # days go by: forget the old ones
                self._slot_texts.clear()
            line = f"{self.day_text(day, lang)} {label}"
            known = self._slot_texts[key] = (f"{day.isoformat()}|{session_id}", line)
        return known

    def session_label(self, session_id: str) -> str:
        return self._settings.session_labels.get(session_id, session_id)

    def ticket_link(self, code: str) -> str:
        """The public address of a ticket's QR image (sent by SMS, never shown on USSD)."""
        return f"{self._settings.public_base_url}/tickets/{code}.png"

    def ticket_text(self, values: Mapping[str, str], lang: str) -> str:
        """The ticket SMS from screen variables (code, facility, day_text, session)."""
        code = values.get("code", "")
        return to_gsm(
            fill(
                self._menus.text("ticket_sms", lang),
                {
                    "code": code,
                    "facility": values.get("facility", ""),
                    "day": values.get("day_text", values.get("day", "")),
                    "session": values.get("session", ""),
                    "link": self.ticket_link(code),
                    "video": self._settings.video_url,
                },
            )
        )

    async def ticket_vars(self, ticket: Ticket) -> dict[str, str]:
        """A ticket's code, place and time as screen variables (language-free ones)."""
        return {
            "code": ticket.code,
            "facility_id": ticket.facility_id,
            "facility": await self.facility_name(ticket.facility_id),
            "day": ticket.day.isoformat(),
            "session_id": ticket.session_id,
            "session": self.session_label(ticket.session_id),
            "ticket_state": ticket.state.value,
            "ticket_status": ticket.state.value,  # language-free (ticket_state is shown)
        }

    async def ticket_sms_text(self, ticket: Ticket, lang: str) -> str:
        """The ticket SMS for a Ticket (a channel re-sending it outside a dialogue)."""
        values = await self.ticket_vars(ticket)
        values["day_text"] = self.day_text(ticket.day, lang)
        return self.ticket_text(values, lang)
