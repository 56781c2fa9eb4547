"""What the dialogue shows once a dose is given, or the registration moved on elsewhere.

A used ticket routes the same way whatever the user asked for (register, status,
change, cancel): after the last dose of the course there is nothing left to do
("complete"), after dose 1 dose 2 comes next, from its due date ("dose2").
"""

from __future__ import annotations

from datetime import date

from dialogue.context import Turn
from registration.eligibility import COURSE_COMPLETE
from registration.models import FULL_COURSE, Ticket
from registration.screening_record import ALREADY_BOOKED

# A screening the Registry refused because the registration moved on meanwhile (another
# channel booked; the last dose was checked in): the outcome that shows where it stands.
MOVED_ON = {ALREADY_BOOKED: "booked", COURSE_COMPLETE: "complete"}


def after_dose(turn: Turn, ticket: Ticket, dose2_due: date | None) -> str:
    """The outcome for a used ``ticket``: "complete", "dose2" (its due date put into the
    screen variables), or as before for a dose 1 with no due date on record ("used", or
    "none" when changing or cancelling: there is no booking to change)."""
    if ticket.dose >= FULL_COURSE:
        return "complete"
    if dose2_due is not None:
        turn.vars["dose2_due"] = turn.ctx.lookups.day_text(dose2_due, turn.lang)
        return "dose2"
    return "none" if turn.vars.get("intent") in ("change", "cancel") else "used"
