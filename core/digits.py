"""Numbers typed by people or sent by peers: the ASCII digits 0-9, nothing else.

``str.isdigit()`` is also true for "²", "①" and other Unicode digits, which ``int()``
refuses with a ValueError, and for Arabic-Indic or full-width digits, which it takes.
A check with ``isdigit()`` and then ``int()`` therefore raised on a menu answer of "²"
(the session ended with "busy" and a traceback). Every check of outside text for
digits goes through :func:`is_digits`.
"""

from __future__ import annotations


def is_digits(text: str) -> bool:
    """True when ``text`` is one or more of the ASCII digits 0-9 and nothing else."""
    return text.isascii() and text.isdigit()


def whole_number(text: str, max_digits: int = 9) -> int | None:
    """``text`` as a number when it is 1 to ``max_digits`` ASCII digits, else None.

    The bound is the caller's largest sensible answer; it also keeps ``int()`` from
    working through (or refusing, past 4,300 digits) a number someone typed at length.
    """
    return int(text) if len(text) <= max_digits and is_digits(text) else None
