"""Named side effects the menus refer to (`action = "verify_nik"` ...), calling the Registry.

Each action takes the current :class:`Turn` and an argument (the user's input, a
chosen list item's key, or the option's `arg`) and returns an outcome name that
the menu routes with `on = {...}`; returning ``None`` means the action moved the
session itself (resume). Every outcome an action can return is declared, so the
menus are checked against it at start-up. The ticket's actions (re-send, cancel) are
in :mod:`dialogue.actions_tickets`; importing this module registers them too, so the
table (``ACTIONS``, kept in :mod:`dialogue.action_table`) is taken from here.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from core import metrics
from core.outbox import OutboundSms
from core.privacy import mask_phone
from dialogue.action_table import ACTIONS as ACTIONS
from dialogue.action_table import action
from dialogue.actions_tickets import show_ticket
from dialogue.context import Turn
from dialogue.doses import MOVED_ON, after_dose
from dialogue.gsm import to_gsm
from dialogue.menus import fill
from dialogue.model import MESSAGE_CHANNELS
from registration.models import (
    BookingOutcome,
    ScreeningOutcome,
    ScreeningResult,
    TicketState,
    VerifyOutcome,
)

log = logging.getLogger(__name__)


def short_name(full_name: str) -> str:
    """First name and initials ('Siti Nurhaliza Putri' -> 'Siti N. P.'): enough to recognise."""
    words = full_name.split()
    if not words:
        return "-"
    return " ".join([words[0][:20]] + [w[0].upper() + "." for w in words[1:3]])


# --- who --------------------------------------------------------------------------------


@action("ok", "wrong", "locked", "not_listed")
async def verify_nik(turn: Turn, digits: str) -> str:
    ctx = turn.ctx
    # The user action: this channel's session at this hop. Two copies of one hop arriving
    # at once (a double tap, a retransmit answered by two workers) both read the session
    # before either saves it: the same action, one try. The Registry adds the digits.
    attempt = f"{turn.channel}:{turn.session.hops}"
    result = await ctx.registry.verify(turn.msisdn, digits, attempt=attempt)
    v = turn.vars
    if result.outcome is VerifyOutcome.OK and result.worker is not None:
        worker = result.worker
        v["nik"] = worker.nik
        v["name"] = short_name(worker.full_name)
        v["facility_id"] = worker.facility_id
        v["facility"] = await ctx.lookups.facility_name(worker.facility_id)
        return "ok"
    if result.outcome is VerifyOutcome.WRONG_DIGITS:
        v["attempts_left"] = str(result.attempts_left)
        return "wrong"
    if result.outcome is VerifyOutcome.LOCKED:
        offset = timedelta(hours=ctx.settings.utc_offset_hours)
        now = datetime.fromtimestamp(ctx.clock(), UTC)
        until = now + timedelta(seconds=result.locked_seconds) + offset
        v["locked_until"] = f"{until:%H:%M}"
        log.info("phone %s locked for %ds", mask_phone(turn.msisdn), result.locked_seconds)
        return "locked"
    if turn.channel not in MESSAGE_CHANNELS:  # there the reply itself is the message
        await text_not_listed(turn)
    return "not_listed"


async def text_not_listed(turn: Turn) -> None:
    """How to get onto the list, by SMS: at most once a day per phone (whatever is dialled)."""
    ctx = turn.ctx
    offset = timedelta(hours=ctx.settings.utc_offset_hours)
    today = (datetime.fromtimestamp(ctx.clock(), UTC) + offset).strftime("%Y%m%d")
    text = fill(
        ctx.menus.text("not_listed_sms", turn.lang), {"help_email": ctx.settings.help_email}
    )
    sms = OutboundSms(turn.msisdn, to_gsm(text), "not_listed", f"not-listed:{turn.msisdn}:{today}")
    await ctx.outbox.enqueue_nowait(sms)  # the session write of this hop follows it


@action("register", "status", "change", "cancel")
async def route_intent(turn: Turn, _: str) -> str:
    intent = turn.vars.get("intent", "register")
    return intent if intent in ("register", "status", "change", "cancel") else "register"


@action("none", "booked", "used", "dose2", "complete")
async def load_status(turn: Turn, _: str) -> str:
    status = await turn.ctx.registry.status_by_nik(turn.vars["nik"])
    # Read along for free: whether a screening is held (age, a running deferral). The
    # screening gate asks the Registry again only when it is.
    if status is not None and status.hold is not None:
        turn.vars["hold"] = status.hold.outcome.value
    else:
        turn.vars.pop("hold", None)
    ticket = status.ticket if status is not None else None
    if ticket is None or ticket.state is TicketState.CANCELLED:
        return "none"
    await show_ticket(turn, ticket)
    turn.vars["ticket_state"] = turn.ctx.menus.text(f"ticket_{ticket.state.value}", turn.lang)
    if ticket.state is TicketState.USED:  # no QR to show: it would not scan any more
        return after_dose(turn, ticket, status.dose2_due if status is not None else None)
    return "booked"


# --- where and when ---------------------------------------------------------------------


@action("ok")
async def choose_facility(turn: Turn, facility_id: str) -> str:
    turn.vars["facility_id"] = facility_id
    turn.vars["facility"] = await turn.ctx.lookups.facility_name(facility_id)
    return "ok"


@action("ok")
async def choose_slot(turn: Turn, key: str) -> str:
    day, session_id = key.split("|", 1)
    turn.vars["day"] = day
    turn.vars["day_text"] = turn.ctx.lookups.day_text(date.fromisoformat(day), turn.lang)
    turn.vars["session_id"] = session_id
    turn.vars["session"] = turn.ctx.lookups.session_label(session_id)
    return "ok"


def explain(turn: Turn, result: ScreeningResult) -> str:
    """Put a screening outcome's reason, advice and retry date into the screen variables."""
    ctx, v = turn.ctx, turn.vars
    why = ctx.registry.screening_reason(result.reason_id)
    v["reason"] = (
        why.reason[turn.lang].rstrip(".") if why else ctx.menus.text("no_reason", turn.lang)
    )
    v["advice"] = why.advice[turn.lang] if why else ""
    retry_on = result.retry_on
    v["retry_on"] = ctx.lookups.day_text(retry_on, turn.lang) if retry_on else "-"
    return result.outcome.value


@action("ok", "deferred", "not_eligible")
async def screening_gate(turn: Turn, _: str) -> str:
    """Before the questions: an age outside this phase or a deferral still running ends the
    registration here. The Registry is asked (fresh) only when the status said so."""
    if not turn.vars.pop("hold", ""):
        return "ok"
    result = await turn.ctx.registry.screening_hold(turn.vars["nik"])
    return "ok" if result is None else explain(turn, result)


@action("eligible", "deferred", "not_eligible", "booked", "complete")
async def record_screening(turn: Turn, _: str) -> str:
    """Called by the screening screen at the first "yes" or after the last "no"."""
    result = await turn.ctx.registry.record_screening(turn.vars["nik"], dict(turn.session.answers))
    if result.outcome is ScreeningOutcome.ELIGIBLE:
        return "eligible"
    moved_on = MOVED_ON.get(result.reason_id)
    if moved_on:  # booked (another channel) or the last dose given meanwhile: show that
        await turn.drop_resume()
        return moved_on
    return explain(turn, result)


@action("ok")
async def start_reschedule(turn: Turn, _: str) -> str:
    turn.vars["mode"] = "reschedule"
    return "ok"


@action(*(outcome.value for outcome in BookingOutcome))  # book_slot returns any of them
async def book_slot(turn: Turn, _: str) -> str:
    ctx, v = turn.ctx, turn.vars
    call = ctx.registry.reschedule if v.get("mode") == "reschedule" else ctx.registry.book
    result = await call(
        v["nik"],
        v["facility_id"],
        date.fromisoformat(v["day"]),
        v["session_id"],
        channel=turn.channel,
        phone=turn.msisdn,  # refused once the registrant is listed with another phone
    )
    if result.ticket is not None and result.outcome in (
        BookingOutcome.BOOKED,
        BookingOutcome.ALREADY_BOOKED,
    ):
        await show_ticket(turn, result.ticket)
    if result.outcome is BookingOutcome.NOT_ELIGIBLE:  # e.g. no longer in an eligible age band
        explain(turn, ScreeningResult(ScreeningOutcome.NOT_ELIGIBLE))
    return result.outcome.value


@action("ok")
async def issue_ticket(turn: Turn, _: str) -> str:
    """Queue the ticket SMS once per ticket (a retransmitted hop queues nothing more)."""
    ctx, code = turn.ctx, turn.vars["code"]
    text = ctx.lookups.ticket_text(turn.vars, turn.lang)
    sms = OutboundSms(turn.msisdn, text, "ticket", f"ticket:{code}")
    # Not waited for: the session write that ends this hop follows on the same connection.
    await ctx.outbox.enqueue_nowait(sms)
    return "ok"


# Re-sending the ticket and cancelling the booking: dialogue.actions_tickets.


# --- the session itself -----------------------------------------------------------------


@action("ok")
async def set_language(turn: Turn, lang: str) -> str:
    turn.session.lang = lang
    turn.language = lang  # stored with this hop's session write (no round trip of its own)
    return "ok"


async def stale_resume(turn: Turn) -> bool:
    """Whether the resume snapshot's registration has moved on (booked, or used, elsewhere):
    then it is dropped and its NIK and name are kept to show the current status instead."""
    kept = turn.resume.vars if turn.resume is not None else {}
    status = await turn.ctx.registry.status_by_nik(kept["nik"]) if "nik" in kept else None
    ticket = status.ticket if status is not None else None
    if ticket is None or ticket.state is TicketState.CANCELLED:
        return False
    turn.vars.update({k: v for k, v in kept.items() if k in ("nik", "name", "facility")})
    await turn.drop_resume()
    return True


@action("gone", "moved_on")
async def resume_session(turn: Turn, _: str) -> str | None:
    snapshot = turn.resume
    if snapshot is None or snapshot.screen not in turn.ctx.menus.screens:
        return "gone"
    if await stale_resume(turn):  # booked elsewhere while the offer was on screen
        return "moved_on"
    turn.session.resume_from(snapshot)
    metrics.SESSIONS.labels(turn.channel, "resumed").inc()
    return None


@action("ok")
async def discard_resume(turn: Turn, _: str) -> str:
    turn.resume = None
    await turn.ctx.store.discard_resume(turn.msisdn)
    return "ok"
