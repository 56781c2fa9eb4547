"""Registration statistics: which counters each event moves, and the operator's view.

Statuses: ``screened`` registrants screened at least once; ``eligible``/``deferred``/
``not_eligible`` registrants by their latest screening; ``booked`` registrants
holding an active booking now; ``cancelled`` and ``checked_in`` events so far.
Each is kept overall and per regency (of the registrant's facility). Counters move
after the state change they count, without waiting (best effort: a crash in
between can leave one count off by one; the registrant records stay the truth).
"""

from __future__ import annotations

from typing import TypedDict

from registration.stores import CounterSnapshot, Moves

STATUSES = ("screened", "eligible", "deferred", "not_eligible", "booked", "cancelled", "checked_in")

BOOKED: Moves = (("booked", 1),)
REPLACED: Moves = (("booked", -1),)  # the booking a reschedule replaced (its regency)
CANCELLED: Moves = (("booked", -1), ("cancelled", 1))
CHECKED_IN: Moves = (("checked_in", 1), ("booked", -1))


def screened(previous: str, outcome: str) -> Moves:
    """A screening replacing ``previous`` ("" for the first): the outcome counts move."""
    first: Moves = (("screened", 1),) if not previous else ((previous, -1),)
    return (*first, (outcome, 1))


class RegistryStats(TypedDict):
    workers_listed: int
    facilities: int
    totals: dict[str, int]  # status -> count
    by_regency: dict[str, dict[str, int]]  # regency -> status -> count (sorted by regency)


def view(snapshot: CounterSnapshot) -> RegistryStats:
    """Every status overall and per regency (zeros included); unknown counters left out."""
    totals = dict.fromkeys(STATUSES, 0)
    by_regency: dict[str, dict[str, int]] = {}
    for (regency, status), value in snapshot.counters.items():
        if status not in totals:
            continue
        if not regency:
            totals[status] = value
        else:
            by_regency.setdefault(regency, dict.fromkeys(STATUSES, 0))[status] = value
    return {
        "workers_listed": snapshot.workers_listed,
        "facilities": snapshot.facilities,
        "totals": totals,
        "by_regency": dict(sorted(by_regency.items())),
    }
