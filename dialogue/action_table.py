"""The table of named actions the menus refer to, and the decorator that fills it.

Its own module so that actions may live in more than one module without an import
cycle: :mod:`dialogue.actions` and :mod:`dialogue.actions_tickets` both register
here, and ``dialogue.actions`` (which imports the other) hands the whole table out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dialogue.context import Turn

ActionFn = Callable[[Turn, str], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Action:
    fn: ActionFn
    outcomes: frozenset[str]


ACTIONS: dict[str, Action] = {}


def action(*outcomes: str) -> Callable[[ActionFn], ActionFn]:
    def register(fn: ActionFn) -> ActionFn:
        ACTIONS[fn.__name__] = Action(fn, frozenset(outcomes))
        return fn

    return register
