"""Registering someone on the phone: screening answers, a facility, a slot, the ticket SMS.

All of it through the Registry (``screening_hold``, ``record_screening``,
``facility_choices``, ``available_slots`` for this registrant, ``book``/``reschedule``
with ``channel="helpdesk"``), so the rules are the dialogue's: an age outside this
phase or a running deferral ends the screening before any question, and only the
days the registrant may book are offered. The
outbox: the ticket SMS is the dialogue's own text (``Engine.ticket_sms_text``),
queued under the dialogue's dedupe key, so a ticket is never texted twice by
accident. Rescheduling is the same facility and slot steps with ``mode=reschedule``.
"""

from __future__ import annotations

from datetime import date

from aiohttp import web

from core.outbox import OutboundSms
from core.privacy import mask_phone
from registration.models import (
    BookingOutcome,
    ScreeningOutcome,
    ScreeningResult,
    SlotAvailability,
    Ticket,
)
from ussd_server.console.base import Console, Form, field, frame, respond
from ussd_server.console.helpdesk import registrant_page, show
from ussd_server.console.sessions import Agent
from ussd_server.console.views import LANGUAGES, Found, choice_group, hidden
from web import kit

CHANNEL = "helpdesk"
ANSWERS = (("no", "No / Tidak"), ("yes", "Yes / Ya"))


def _page(console: Console, agent: Agent, title: str, body: str, status: int = 200) -> web.Response:
    return respond(frame(title, body, agent, console), status)


def _mode(form: Form) -> str:
    return "reschedule" if field(form, "mode") == "reschedule" else "book"


def _detail(result: ScreeningResult) -> str:
    return result.outcome.value + (f" ({result.reason_id})" if result.reason_id else "")


def _outcome_notice(console: Console, result: ScreeningResult) -> str:
    """What to tell the caller: the outcome, its reason and advice, the retry date."""
    why = console.ctx.registry.screening_reason(result.reason_id)
    text = f"{why.reason['en']} {why.advice['en']}" if why else ""
    retry = f" Screening again from {result.retry_on:%d %b %Y}." if result.retry_on else ""
    outcome = result.outcome.value.replace("_", " ")
    return f"Screening: {outcome}. {text}{retry}".replace("  ", " ").strip()


@registrant_page
async def screening_form(
    console: Console, agent: Agent, form: Form, nik: str, item: Found
) -> web.Response:
    if item.status.hold is not None:  # an age outside this phase, or a deferral running
        held = await console.ctx.registry.screening_hold(nik)
        if held is not None:
            await console.audit.record(agent.name, "screening", nik, _detail(held))
            return await show(console, agent, form, notice=_outcome_notice(console, held))
    return _screening_page(console, agent, form, item)


def _screening_page(
    console: Console, agent: Agent, form: Form, item: Found, error: str = ""
) -> web.Response:
    groups = console.ctx.registry.screening_groups()
    questions = "".join(
        choice_group(
            f"q-{g.group_id}", g.prompt["id"], ANSWERS, legend_lang="id", hint=g.prompt["en"]
        )
        for g in groups
    )
    alert = f'<p class="error" role="alert">{kit.esc(error)}</p>' if error else ""
    body = (
        f"<h1>Screening: {kit.esc(item.status.worker.full_name)}</h1>{alert}"
        "<p>Read each question to the caller and mark the answer.</p>"
        + kit.form(
            "/helpdesk/screening",
            console.csrf.token(agent.session_id),
            hidden("ref", field(form, "ref")) + questions,
            kit.button("Record the answers"),
        )
    )
    return _page(console, agent, "Screening", body, 400 if error else 200)


@registrant_page
async def screening(
    console: Console, agent: Agent, form: Form, nik: str, item: Found
) -> web.Response:
    registry = console.ctx.registry
    groups = registry.screening_groups()
    answers = {g.group_id: field(form, f"q-{g.group_id}") for g in groups}
    if any(value not in ("yes", "no") for value in answers.values()):
        return _screening_page(console, agent, form, item, "Every question needs an answer.")
    result = await registry.record_screening(nik, {k: v == "yes" for k, v in answers.items()})
    await console.audit.record(agent.name, "screening", nik, _detail(result))
    if result.outcome is ScreeningOutcome.ELIGIBLE:
        return await _facility_page(console, agent, form, nik, "book", "Eligible: choose a place.")
    return await show(console, agent, form, notice=_outcome_notice(console, result))


@registrant_page
async def choose_facility(
    console: Console, agent: Agent, form: Form, nik: str, item: Found
) -> web.Response:
    return await _facility_page(console, agent, form, nik, _mode(form))


async def _facility_page(
    console: Console, agent: Agent, form: Form, nik: str, mode: str, notice: str = ""
) -> web.Response:
    facilities = await console.ctx.registry.facility_choices(nik)
    if not facilities:
        return await show(console, agent, form, notice="No facility is assigned.")
    choices = [(f.facility_id, f"{f.name} ({f.regency})") for f in facilities]
    note = f'<p class="notice" role="status">{kit.esc(notice)}</p>' if notice else ""
    body = f"<h1>Where?</h1>{note}" + kit.form(
        "/helpdesk/slots",
        console.csrf.token(agent.session_id),
        hidden("ref", field(form, "ref"))
        + hidden("mode", mode)
        + choice_group(
            "facility", "Facility (the assigned one first)", choices, checked=choices[0][0]
        ),
        kit.button("Show the free slots"),
    )
    return _page(console, agent, "Choose a facility", body)


def _slot_label(slot: SlotAvailability) -> str:
    return f"{slot.day:%a %d %b} - {slot.session_id} {slot.label} - {slot.seats_left} seats left"


@registrant_page
async def slots(console: Console, agent: Agent, form: Form, nik: str, item: Found) -> web.Response:
    return await _slot_page(console, agent, form, nik)


async def _slot_page(
    console: Console, agent: Agent, form: Form, nik: str, error: str = ""
) -> web.Response:
    registry, facility_id = console.ctx.registry, field(form, "facility")
    allowed = {f.facility_id: f for f in await registry.facility_choices(nik)}
    if facility_id not in allowed:
        return await _facility_page(console, agent, form, nik, _mode(form), "Choose a facility.")
    offered = await registry.available_slots(facility_id, nik=nik)  # this registrant's days
    free = [s for s in offered if s.seats_left > 0]
    alert = f'<p class="error" role="alert">{kit.esc(error)}</p>' if error else ""
    title = f"<h1>When? {kit.esc(allowed[facility_id].name)}</h1>{alert}"
    if not free:
        body = title + "<p>No seat is left at this facility in the booking window.</p>"
        return _page(console, agent, "Choose a slot", body, 409 if error else 200)
    choices = [(f"{s.day.isoformat()}|{s.session_id}", _slot_label(s)) for s in free]
    body = title + kit.form(
        "/helpdesk/book",
        console.csrf.token(agent.session_id),
        hidden("ref", field(form, "ref"))
        + hidden("mode", _mode(form))
        + hidden("facility", facility_id)
        + choice_group("slot", "Day and session", choices)
        + choice_group("lang", "Ticket SMS language", LANGUAGES, checked="id"),
        kit.button("Book this slot" if _mode(form) == "book" else "Move the booking here"),
    )
    return _page(console, agent, "Choose a slot", body, 409 if error else 200)


def _parse_slot(raw: str) -> tuple[date, str] | None:
    day, sep, session_id = raw.partition("|")
    try:
        return (date.fromisoformat(day), session_id) if sep and session_id else None
    except ValueError:
        return None


@registrant_page
async def book(console: Console, agent: Agent, form: Form, nik: str, item: Found) -> web.Response:
    slot, mode = _parse_slot(field(form, "slot")), _mode(form)
    if slot is None:
        return await _slot_page(console, agent, form, nik, "Choose a day and session.")
    registry, facility_id = console.ctx.registry, field(form, "facility")
    call = registry.reschedule if mode == "reschedule" else registry.book
    result = await call(nik, facility_id, slot[0], slot[1], channel=CHANNEL)
    detail = f"{result.outcome.value}: {facility_id} {slot[0].isoformat()} {slot[1]}"
    if result.ticket is not None:
        detail += f", ticket {result.ticket.code}"
    await console.audit.record(agent.name, mode, nik, detail)
    if result.outcome in (BookingOutcome.FULL, BookingOutcome.INVALID_SLOT):
        error = "That session has just filled up or is not offered: choose another."
        return await _slot_page(console, agent, form, nik, error)
    if result.outcome is BookingOutcome.TOO_EARLY:
        error = "That day is before the dose-2 due date: choose a later one."
        return await _slot_page(console, agent, form, nik, error)
    if result.outcome is BookingOutcome.BOOKED and result.ticket is not None:
        lang = "en" if field(form, "lang") == "en" else "id"
        where = await _send_ticket(console, result.ticket, item.status.worker.phone, lang)
        notice = f"Booked: ticket {result.ticket.code}. Ticket SMS queued to {where}."
        return await show(console, agent, form, notice=notice)
    notices = {
        BookingOutcome.ALREADY_BOOKED: "Already booked for another slot: reschedule instead.",
        BookingOutcome.NOT_ELIGIBLE: "No eligible screening on record: register first.",
        BookingOutcome.COURSE_COMPLETE: "Both doses given: there is nothing more to book.",
    }
    return await show(console, agent, form, notice=notices.get(result.outcome, "Not booked."))


async def _send_ticket(console: Console, ticket: Ticket, phone: str, lang: str) -> str:
    """Queue the ticket SMS once per ticket (the dialogue's key); returns the masked phone."""
    text = await console.ctx.engine.ticket_sms_text(ticket, lang)
    await console.ctx.outbox.enqueue(OutboundSms(phone, text, "ticket", f"ticket:{ticket.code}"))
    return mask_phone(phone)
