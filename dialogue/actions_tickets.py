"""Acting on a ticket shown earlier: re-sending its SMS, cancelling its booking.

What the user was shown may be out of date when they answer: the booking was moved
or cancelled on another channel meanwhile (an SMS conversation lives a day), or an
operator re-listed the registrant with another phone since this conversation verified
the NIK. So both act on what holds now. The re-send reads the status fresh and sends
the active ticket as it is; the cancel names the ticket shown and the Registry cancels
no other. Neither acts once the registrant is no longer listed with this phone
("other_phone": the conversation ends): the Registry checks that inside the step that
cancels (or books), the re-send on the status it reads.
"""

from __future__ import annotations

from core.outbox import OutboundSms
from core.phone import normalise_phone
from dialogue.action_table import action
from dialogue.context import Turn
from registration.models import RegistrantStatus, Ticket, TicketState


async def show_ticket(turn: Turn, ticket: Ticket) -> None:
    """Put a ticket's code, place and time into the screen variables."""
    lookups = turn.ctx.lookups
    turn.vars.update(await lookups.ticket_vars(ticket))
    turn.vars["day_text"] = lookups.day_text(ticket.day, turn.lang)


def listed_with(status: RegistrantStatus, msisdn: str) -> bool:
    """Whether the registrant is (still) listed with the phone this conversation is on."""
    return status.worker.phone == normalise_phone(msisdn).value


@action("sent", "limited", "none", "other_phone")
async def resend_ticket(turn: Turn, _: str) -> str:
    """Re-send the active ticket as it is now, not the one on screen (moved or cancelled on
    another channel meanwhile): one status read. "none": no active ticket any more."""
    ctx = turn.ctx
    status = await ctx.registry.status_by_nik(turn.vars["nik"])
    if status is None or not listed_with(status, turn.msisdn):
        return "other_phone"
    ticket = status.ticket
    if ticket is None or ticket.state is not TicketState.ACTIVE:
        return "none"
    await show_ticket(turn, ticket)  # the screen after this one names the ticket sent
    code, interval = ticket.code, ctx.settings.resend_interval_seconds
    if not await ctx.store.claim_resend(turn.msisdn, code, interval):
        return "limited"
    text = ctx.lookups.ticket_text(turn.vars, turn.lang)
    bucket = int(ctx.clock() // interval)
    sms = OutboundSms(turn.msisdn, text, "ticket_resend", f"ticket-resend:{code}:{bucket}")
    await ctx.outbox.enqueue(sms)
    return "sent"


@action("cancelled", "none", "changed", "other_phone")
async def cancel_booking(turn: Turn, _: str) -> str:
    """Cancel the booking the user was asked about (its ticket code). Moved meanwhile, or a
    reschedule in flight won: nothing is cancelled and the booking as it is now is shown
    ("changed"); only then is the status read (one round trip more)."""
    registry, nik = turn.ctx.registry, turn.vars["nik"]
    shown = turn.vars.get("code", "")
    ticket = await registry.cancel(nik, code=shown, phone=turn.msisdn)
    if ticket is not None:
        turn.vars["code"] = ticket.code
        return "cancelled"
    status = await registry.status_by_nik(nik)
    if status is None or not listed_with(status, turn.msisdn):
        return "other_phone"
    if status.ticket is None or status.ticket.state is not TicketState.ACTIVE:
        return "none"
    await show_ticket(turn, status.ticket)
    return "changed"
