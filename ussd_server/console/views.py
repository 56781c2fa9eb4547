"""HTML of the help desk: search, a registrant's status and what can be done for them.

Pages are built from ``web.kit`` pieces; a registrant is named in forms only by
a reference of the sign-in (see :mod:`ussd_server.console.sessions`). NIKs are
shown masked unless the agent pressed "Show NIK" (which the audit log records).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.privacy import mask_nik, mask_phone
from registration.models import RegistrantStatus, ScreeningOutcome, TicketState
from ussd_server.console.audit import AuditEntry
from web import kit


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{kit.esc(name)}" value="{kit.esc(value)}">'


def choice_group(
    name: str,
    legend: str,
    choices: Iterable[tuple[str, str]],
    *,
    checked: str = "",
    legend_lang: str = "",
    hint: str = "",
) -> str:
    """A required choice; nothing is picked for the agent unless ``checked`` says so."""
    field_id = f"f-{name}"
    items = []
    for index, (value, label) in enumerate(choices):
        item_id = f"{field_id}-{index}"
        mark = " checked" if value == checked else ""
        items.append(
            f'<label for="{item_id}"><input type="radio" id="{item_id}" name="{kit.esc(name)}"'
            f' value="{kit.esc(value)}" required{mark}>{kit.esc(label)}</label>'
        )
    lang = f' lang="{kit.esc(legend_lang)}"' if legend_lang else ""
    more = f"<p><small>{kit.esc(hint)}</small></p>" if hint else ""
    return (
        f'<fieldset id="{field_id}"><legend{lang}>{kit.esc(legend)}</legend>{more}'
        f"{''.join(items)}</fieldset>"
    )


def action_form(
    action: str, token: str, ref: str, label: str, *, secondary: bool = False, mode: str = ""
) -> str:
    """A one-button form acting on one registrant."""
    fields = hidden("ref", ref) + (hidden("mode", mode) if mode else "")
    return kit.form(action, token, fields, kit.button(label, secondary=secondary))


def search_form(token: str, query: str = "", error: str = "") -> str:
    return kit.form(
        "/helpdesk/search",
        token,
        "<h1>Find a health worker</h1>"
        + kit.text_input(
            "query", "NIK (16 digits) or phone number", value=query, error=error, inputmode="tel"
        ),
        kit.button("Search"),
    )


def state_text(status: RegistrantStatus, ticket_place: str) -> str:
    """One line saying where the registrant stands."""
    ticket, screening = status.ticket, status.screening
    if ticket is not None and ticket.state is TicketState.ACTIVE:
        return (
            f"Booked: ticket {ticket.code}, {ticket.day:%a %d %b %Y}, session "
            f"{ticket.session_id}, at {ticket_place}"
        )
    if ticket is not None and ticket.state is TicketState.USED:
        due = f"; dose 2 due {status.dose2_due:%d %b %Y}" if status.dose2_due else ""
        return f"Dose {ticket.dose} given ({ticket.day:%d %b %Y}){due}"
    cancelled = " (last booking cancelled)" if ticket is not None else ""
    if screening is None:
        return "Not screened yet" + cancelled
    if screening.outcome is ScreeningOutcome.DEFERRED:
        when = f" until {screening.retry_on:%d %b %Y}" if screening.retry_on else ""
        return f"Deferred{when} ({screening.reason_id})"
    if screening.outcome is ScreeningOutcome.NOT_ELIGIBLE:
        return f"Not eligible ({screening.reason_id})"
    return "Eligible, no booking" + cancelled


@dataclass(frozen=True)
class Found:
    """One search result: the registrant and the reference that names them in forms."""

    status: RegistrantStatus
    ref: str
    ticket_place: str


def results_table(token: str, found: Sequence[Found]) -> str:
    rows = []
    for item in found:
        worker = item.status.worker
        rows.append(
            f"<tr><td>{kit.esc(worker.full_name)}<br><small>NIK {kit.esc(mask_nik(worker.nik))}"
            f"</small></td><td>{kit.esc(state_text(item.status, item.ticket_place))}</td>"
            f"<td>{action_form('/helpdesk/registrant', token, item.ref, 'Open')}</td></tr>"
        )
    return (
        "<table><caption>Registrants found</caption><thead><tr><th>Name</th><th>Status</th>"
        f"<th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def registrant_view(token: str, item: Found, *, reveal: bool = False, notice: str = "") -> str:
    status, ref = item.status, item.ref
    worker = status.worker
    nik = worker.nik if reveal else mask_nik(worker.nik)
    facility = status.facility.name if status.facility else worker.facility_id
    note = f'<p class="notice" role="status">{kit.esc(notice)}</p>' if notice else ""
    facts = (
        f"<h1>{kit.esc(worker.full_name)}</h1>{note}<table>"
        f'<tr><th>NIK</th><td id="nik">{kit.esc(nik)}</td></tr>'
        f"<tr><th>Phone</th><td>{kit.esc(mask_phone(worker.phone))}</td></tr>"
        f"<tr><th>Profession</th><td>{kit.esc(worker.profession)}</td></tr>"
        f"<tr><th>Facility</th><td>{kit.esc(facility)}</td></tr>"
        f'<tr><th>Status</th><td id="state">{kit.esc(state_text(status, item.ticket_place))}'
        "</td></tr></table>"
    )
    return facts + _actions(token, status, ref, reveal) + history_list(status.history)


def history_list(lines: Sequence[str]) -> str:
    """What happened to the registration, oldest first (UTC; registration.history): the
    screenings that were not eligible too, which a later screening replaced."""
    if not lines:
        return ""
    items = "".join(f"<li>{kit.esc(line)}</li>" for line in lines)
    return f'<h2>History</h2><ol id="history" style="font-size:.8rem">{items}</ol>'


def _actions(token: str, status: RegistrantStatus, ref: str, revealed: bool) -> str:
    ticket, screening = status.ticket, status.screening
    forms = []
    if ticket is not None and ticket.state is TicketState.ACTIVE:
        forms.append(
            action_form("/helpdesk/choose-facility", token, ref, "Reschedule", mode="reschedule")
        )
        forms.append(action_form("/helpdesk/cancel", token, ref, "Cancel booking"))
        forms.append(
            kit.form(
                "/helpdesk/resend",
                token,
                hidden("ref", ref) + choice_group("lang", "SMS language", LANGUAGES, checked="id"),
                kit.button("Re-send ticket SMS"),
            )
        )
    elif ticket is None or ticket.state is TicketState.CANCELLED:
        forms.append(action_form("/helpdesk/register", token, ref, "Register (screening)"))
        if screening is not None and screening.outcome is ScreeningOutcome.ELIGIBLE:
            forms.append(
                action_form("/helpdesk/choose-facility", token, ref, "Book a slot", mode="book")
            )
    if not revealed:
        forms.append(action_form("/helpdesk/reveal", token, ref, "Show NIK", secondary=True))
    return '<div class="actions">' + "<p></p>".join(forms) + "</div>"


LANGUAGES = (("id", "Bahasa Indonesia"), ("en", "English"))


def audit_table(entries: Sequence[AuditEntry]) -> str:
    """Three narrow columns (a phone's width): when, who did what, for whom and details."""
    rows = []
    for e in entries:
        day, _, clock = e.at.removesuffix("+00:00").partition("T")
        nik = e.nik_masked or "-"
        rows.append(
            f'<tr data-agent="{kit.esc(e.agent)}" data-action="{kit.esc(e.action)}"'
            f' data-nik="{kit.esc(nik)}"><td>{kit.esc(day)}<br>{kit.esc(clock)}</td>'
            f"<td>{kit.esc(e.agent)}<br><strong>{kit.esc(e.action)}</strong></td>"
            f'<td>{kit.esc(nik)}<br><small style="overflow-wrap:anywhere">'
            f"{kit.esc(e.detail)}</small></td></tr>"
        )
    return (
        f"<h1>Audit log</h1><p>The latest {len(entries)} actions, newest first (UTC).</p>"
        '<table id="audit" style="font-size:.8rem"><thead><tr><th>Time</th>'
        "<th>Agent, action</th><th>NIK, detail</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
