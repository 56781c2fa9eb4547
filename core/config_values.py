"""What a setting's value may be: its declared type and, for numbers and words, limits.

A settings dataclass declares each field's type; :func:`core.config.Config.load` checks
every value against it with :func:`checked`, whether it came from `config.toml`, a
deployment's file or the environment. A number must be finite and at least 0 unless its
field says otherwise with :func:`setting` (``workers: int = setting(low=1, high=256)``):
a negative timeout or a worker count of 99999999999 is a typo to refuse at start-up,
not a fork bomb or a 500 at the first request.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Collection, Mapping
from typing import Any

DAY_SECONDS = 86_400
YEAR_SECONDS = 366 * DAY_SECONDS  # the longest window or retention any setting needs


class ConfigError(ValueError):
    """A setting is missing, has the wrong type, or a secret cannot be found."""


@dataclasses.dataclass(frozen=True)
class Limits:
    low: float | None = 0
    high: float | None = None
    choices: tuple[str, ...] = ()


DEFAULT_LIMITS = Limits()


def setting(
    *, low: float | None = 0, high: float | None = None, choices: Collection[str] = ()
) -> Any:
    """A settings field with its own limits (for a list, each item's). No default: every
    default lives in config.toml."""
    return dataclasses.field(metadata={"limits": Limits(low, high, tuple(choices))})


def limits_of(field: dataclasses.Field[Any]) -> Limits:
    return field.metadata.get("limits", DEFAULT_LIMITS)


def checked(hint: Any, value: Any, where: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """``value`` as the declared type ``hint`` (an int where a float is declared becomes a
    float, a list where a tuple is declared a tuple), or ConfigError saying what is wrong.
    Types other than these (tables, Any) are returned as they are."""
    if hint is bool:
        if not isinstance(value, bool):
            raise _wrong(where, value, "true or false")
        return value
    if hint is int or hint is float:
        return _number(hint, value, where, limits)
    if hint is str:
        if not isinstance(value, str):
            raise _wrong(where, value, "a string")
        if limits.choices and value not in limits.choices:
            raise ConfigError(f"{where} = {value!r}: one of {', '.join(limits.choices)}")
        return value
    if typing.get_origin(hint) in (dict, Mapping) and not isinstance(value, Mapping):
        raise _wrong(where, value, "a table")
    if typing.get_origin(hint) in (tuple, list):
        if not isinstance(value, list | tuple):
            raise _wrong(where, value, "a list")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        items = [checked(item, v, f"{where}[{i}]", limits) for i, v in enumerate(value)]
        return tuple(items) if typing.get_origin(hint) is tuple else items
    return value


def _number(hint: type, value: Any, where: str, limits: Limits) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(where, value, "an integer" if hint is int else "a number")
    if hint is int and not isinstance(value, int):
        raise _wrong(where, value, "an integer")
    if not math.isfinite(value):
        raise ConfigError(f"{where} = {value!r}: must be a finite number")
    if limits.low is not None and value < limits.low:
        raise ConfigError(f"{where} = {value!r}: must be at least {number_text(limits.low)}")
    if limits.high is not None and value > limits.high:
        raise ConfigError(f"{where} = {value!r}: must be at most {number_text(limits.high)}")
    return float(value) if hint is float else value


def number_text(value: float) -> str:
    """A limit as people read it: 86,400,000 rather than 8.64e+07, 0.01 as it is."""
    return f"{int(value):,}" if value == int(value) else f"{value:g}"


def _wrong(where: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"{where} = {value!r}: expected {expected}")
