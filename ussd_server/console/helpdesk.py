"""The help desk's pages: search, a registrant's status, show NIK, cancel, re-send the SMS.

Registering and rescheduling (screening, facility, slot) are in
:mod:`ussd_server.console.booking`. Every action is recorded in the audit log
with the agent's name and the masked NIK; searching is by POST, so no NIK or
phone number ends up in a URL, a browser history or an access log.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from core.outbox import OutboundSms
from core.phone import normalise_phone
from core.privacy import mask_phone
from registration.models import RegistrantStatus, Ticket, TicketState
from registration.nik import validate_nik
from ussd_server.console.base import (
    Console,
    Form,
    Handler,
    field,
    frame,
    operator_page,
    respond,
)
from ussd_server.console.sessions import Agent
from ussd_server.console.views import (
    Found,
    audit_table,
    hidden,
    registrant_view,
    results_table,
    search_form,
)
from web import kit

AUDIT_PAGE_ENTRIES = 200
RESEND_BUCKET_SECONDS = 60  # a double click within a minute queues one SMS


@operator_page
async def home(request: web.Request, console: Console, agent: Agent, form: Form) -> web.Response:
    token = console.csrf.token(agent.session_id)
    return respond(frame("Help desk", search_form(token), agent, console))


async def found(console: Console, agent: Agent, statuses: list[RegistrantStatus]) -> list[Found]:
    refs = await console.sessions.remember(agent.session_id, [s.worker.nik for s in statuses])
    out = []
    for status in statuses:
        place = ""
        if status.ticket is not None:
            facility = await console.ctx.registry.facility(status.ticket.facility_id)
            place = facility.name if facility else status.ticket.facility_id
        out.append(Found(status, refs[status.worker.nik], place))
    return out


@operator_page
async def search(request: web.Request, console: Console, agent: Agent, form: Form) -> web.Response:
    token, query = console.csrf.token(agent.session_id), field(form, "query")
    registry, as_nik = console.ctx.registry, validate_nik(query)  # the import's NIK forms
    if as_nik.ok:
        status = await registry.status_by_nik(as_nik.value)
        statuses, how, nik = ([status] if status else []), "by NIK", as_nik.value
    else:
        phone = normalise_phone(query)
        if not phone.ok:
            error = f"Not a NIK or a phone number: {phone.reason}"
            page = search_form(token, query, error)
            return respond(frame("Help desk", page, agent, console), 400)
        statuses, how, nik = await registry.status_by_phone(phone.value), "by phone", ""
        how += f" {mask_phone(phone.value)}"
    # One entry per registrant shown (whose data the agent saw), or one saying nobody.
    for shown in [s.worker.nik for s in statuses] or [nik]:
        await console.audit.record(agent.name, "search", shown, f"{how}: {len(statuses)} found")
    if not statuses:
        page = search_form(token, query, "Nobody is listed with that NIK or phone number.")
        return respond(frame("Help desk", page, agent, console))
    body = search_form(token, query) + results_table(token, await found(console, agent, statuses))
    return respond(frame("Help desk", body, agent, console))


async def registrant(
    console: Console, agent: Agent, form: Form
) -> tuple[str, Found] | web.Response:
    """The registrant a form names by its reference, or the page saying why not."""
    nik = await console.sessions.recall(agent.session_id, field(form, "ref"))
    status = await console.ctx.registry.status_by_nik(nik) if nik else None
    if nik is None or status is None:
        text = "That registrant is not known in this sign-in any more: search again."
        page = f"<h1>Not found</h1><p>{kit.esc(text)}</p>"
        token = console.csrf.token(agent.session_id)
        return respond(frame("Not found", page + search_form(token), agent, console), 404)
    [item] = await found(console, agent, [status])
    return nik, item


RegistrantHandler = Callable[[Console, Agent, Form, str, Found], Awaitable[web.Response]]


def registrant_page(handler: RegistrantHandler) -> Handler:
    """An operator page about the registrant its form names (``ref``): the handler gets
    their NIK and status, or the agent gets the page saying they are not known."""

    @operator_page
    async def page(
        request: web.Request, console: Console, agent: Agent, form: Form
    ) -> web.Response:
        loaded = await registrant(console, agent, form)
        if isinstance(loaded, web.Response):
            return loaded
        return await handler(console, agent, form, *loaded)

    return page


async def show(
    console: Console, agent: Agent, form: Form, *, notice: str = "", reveal: bool = False
) -> web.Response:
    """The registrant's page, fresh from the Registry."""
    loaded = await registrant(console, agent, form)
    if isinstance(loaded, web.Response):
        return loaded
    _, item = loaded
    token = console.csrf.token(agent.session_id)
    body = registrant_view(token, item, reveal=reveal, notice=notice)
    return respond(frame(item.status.worker.full_name, body, agent, console))


@registrant_page
async def view(console: Console, agent: Agent, form: Form, nik: str, _item: Found) -> web.Response:
    await console.audit.record(agent.name, "view", nik)
    return await show(console, agent, form)


@registrant_page
async def reveal(
    console: Console, agent: Agent, form: Form, nik: str, _item: Found
) -> web.Response:
    await console.audit.record(agent.name, "reveal_nik", nik)
    return await show(console, agent, form, reveal=True)


@registrant_page
async def cancel(console: Console, agent: Agent, form: Form, nik: str, item: Found) -> web.Response:
    """Asks first, naming the ticket; the Registry cancels that ticket only (a booking moved
    since the page was shown, on any channel, stays: the agent sees it and asks again)."""
    ticket, code = item.status.ticket, field(form, "code")
    active = ticket if ticket is not None and ticket.state is TicketState.ACTIVE else None
    if field(form, "confirm") != "yes" or not code:
        if active is None:
            return await show(console, agent, form, notice="There is no booking to cancel.")
        page = cancel_confirm_page(console, agent, field(form, "ref"), item, active)
        return respond(frame("Cancel booking", page, agent, console))
    cancelled = await console.ctx.registry.cancel(nik, code=code)
    if cancelled is not None:
        detail = f"ticket {cancelled.code}"
        notice = f"Booking cancelled ({detail})."
    elif active is not None:
        detail = f"not cancelled: ticket {code} changed meanwhile"
        notice = f"Not cancelled: the booking is no longer ticket {code}. It is shown below."
    else:
        detail, notice = "nothing to cancel", "There was no booking to cancel."
    await console.audit.record(agent.name, "cancel", nik, detail)
    return await show(console, agent, form, notice=notice)


def cancel_confirm_page(
    console: Console, agent: Agent, ref: str, item: Found, ticket: Ticket
) -> str:
    """The question, naming the ticket it cancels (its code goes back with the answer)."""
    token = console.csrf.token(agent.session_id)
    return (
        f"<h1>Cancel the booking of {kit.esc(item.status.worker.full_name)}?</h1>"
        f"<p>Ticket <strong>{kit.esc(ticket.code)}</strong>: {ticket.day:%a %d %b %Y}, session"
        f" {kit.esc(ticket.session_id)}, at {kit.esc(item.ticket_place)}.</p>"
        "<p>The seat is given back and the ticket stops being valid.</p>"
        + kit.form(
            "/helpdesk/cancel",
            token,
            hidden("ref", ref) + hidden("confirm", "yes") + hidden("code", ticket.code),
            kit.button("Yes, cancel the booking"),
        )
        + kit.form(
            "/helpdesk/registrant",
            token,
            hidden("ref", ref),
            kit.button("No, keep it", secondary=True),
        )
    )


@registrant_page
async def resend(console: Console, agent: Agent, form: Form, nik: str, item: Found) -> web.Response:
    ticket, phone = item.status.ticket, item.status.worker.phone
    if ticket is None or ticket.state is not TicketState.ACTIVE:
        return await show(console, agent, form, notice="No active ticket to send.")
    lang = "en" if field(form, "lang") == "en" else "id"
    text = await console.ctx.engine.ticket_sms_text(ticket, lang)
    bucket = int(time.time() // RESEND_BUCKET_SECONDS)
    sms = OutboundSms(phone, text, "ticket_resend", f"ticket-resend:{ticket.code}:desk:{bucket}")
    queued = await console.ctx.outbox.enqueue(sms)
    await console.audit.record(agent.name, "resend_sms", nik, f"ticket {ticket.code} ({lang})")
    where = mask_phone(phone)
    notice = f"Ticket SMS queued to {where}." if queued else f"Already queued to {where}."
    return await show(console, agent, form, notice=notice)


@operator_page
async def audit_page(
    request: web.Request, console: Console, agent: Agent, form: Form
) -> web.Response:
    entries = await console.audit.recent(AUDIT_PAGE_ENTRIES)
    return respond(frame("Audit log", audit_table(entries), agent, console))
