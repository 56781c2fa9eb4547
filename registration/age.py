"""Age from the NIK, and the age bands that decide who may be vaccinated in this phase.

A NIK carries the birth date as ``DDMMYY`` (digits 7-12; women's day + 40) but not
the century. The birth year is the latest year ending in ``YY`` that gives an age
of 0 to 99 on the day asked about: on 13 January 2021, ``85`` is 1985 (35) and
``05`` is 2005 (15), never 1905 (115). A 29 February in a year that had none
counts as the day before 1 March.

The bands are data (``[[age_band]]`` in menus/screening.toml, checked when the
file is loaded): they cover every age from 0 up, each with its outcome (who is
``eligible`` now, who is ``not_eligible`` or ``deferred`` and why) and its dose-2
interval (14 days for 18-59 in January 2021, 28 for older people).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from registration.models import AgeBand


def birth_day_month(nik: str) -> tuple[int, int]:
    """(day, month) of birth: women's NIKs carry the day + 40."""
    day = int(nik[6:8])
    return (day - 40 if day > 40 else day), int(nik[8:10])


def age_on(nik: str, day: date) -> int:
    """Whole years of age on ``day``, the century resolved as the module says (0-99)."""
    born_day, born_month = birth_day_month(nik)
    year = day.year - (day.year - int(nik[10:12])) % 100  # latest year ending in YY
    age = day.year - year - ((day.month, day.day) < (born_month, born_day))
    return age + 100 if age < 0 else age  # born later this year: the century before


class AgeBands:
    """The bands in age order, covering 0 and up without gaps (checked when loaded)."""

    def __init__(self, bands: Sequence[AgeBand]) -> None:
        self.bands = tuple(bands)

    def of_age(self, age: int) -> AgeBand:
        for band in self.bands:
            if band.max_age is None or age <= band.max_age:
                return band
        return self.bands[-1]  # unreachable: the last band has no upper bound

    def on(self, nik: str, day: date) -> AgeBand:
        """The band of the registrant's age on ``day``."""
        return self.of_age(age_on(nik, day))

    def by_id(self, band_id: str) -> AgeBand | None:
        return next((b for b in self.bands if b.band_id == band_id), None)
