"""HTML of the dashboard: number tiles, then server-drawn SVG charts, newest figures first.

``figures_html`` is the part the page's refresher replaces; ``REFRESHER`` is the
only script any console page runs (allowed by its hash in the page's
Content-Security-Policy), and the page works without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ussd_server.console import charts
from web.kit import esc

REFRESHER = (
    "(function(){var live=document.getElementById('live');"
    "var every=+live.getAttribute('data-refresh');if(!every)return;"
    "setInterval(function(){fetch('/dashboard/fragment',{credentials:'same-origin',"
    "cache:'no-store'}).then(function(r){return r.ok?r.text():''})"
    ".then(function(html){if(html)live.innerHTML=html}).catch(function(){})},every*1000)})();"
)

TILES = (
    ("workers_listed", "listed"),
    ("facilities", "facilities"),
    ("screened", "screened"),
    ("eligible", "eligible"),
    ("deferred", "deferred"),
    ("not_eligible", "not eligible"),
    ("booked", "booked now"),
    ("cancelled", "cancelled"),
    ("checked_in", "checked in"),
)
CHANNEL_ORDER = ("ussd", "sms", "whatsapp", "web", "helpdesk")
OUTCOMES = (("eligible", "#0b6e4f"), ("deferred", "#e09f3e"), ("not_eligible", "#9e2a2b"))
REGENCIES_SHOWN = 12


@dataclass(frozen=True)
class FacilitySeats:
    name: str
    regency: str
    seats_left: list[int]  # per day of ``Figures.seat_days``


@dataclass(frozen=True)
class Figures:
    stats: dict[str, Any]  # Registry.stats()
    days: list[tuple[date, dict[str, int]]]  # activity counts, oldest first
    seat_days: list[date]
    seats: list[FacilitySeats]  # the fullest facilities first
    campaigns: list[dict[str, Any]]  # progress of each, as GET /api/campaigns
    more_campaigns: int
    at: float


def _tiles(stats: dict[str, Any]) -> str:
    values = {**stats["totals"], "workers_listed": stats["workers_listed"]}
    values["facilities"] = stats["facilities"]
    items = "".join(
        '<div style="background:#fff;border-radius:.35rem;padding:.35rem .6rem;min-width:6.4rem">'
        f'<div style="font-size:1.35rem;font-weight:700" data-figure="{name}">{values[name]}</div>'
        f"<div>{esc(label)}</div></div>"
        for name, label in TILES
    )
    return f'<div style="display:flex;flex-wrap:wrap;gap:.4rem">{items}</div>'


def _channels(days: Sequence[tuple[date, dict[str, int]]], what: str) -> list[str]:
    seen = {
        field.split(":", 1)[1] for _, counts in days for field in counts if field.startswith(what)
    }
    known = [c for c in CHANNEL_ORDER if c in seen]
    return known + sorted(seen - set(known)) or ["ussd"]


def _series(names: Sequence[str]) -> list[tuple[str, str]]:
    return [(name, charts.COLOURS[i % len(charts.COLOURS)]) for i, name in enumerate(names)]


def _per_day(days: Sequence[tuple[date, dict[str, int]]]) -> str:
    labels = [f"{day:%d/%m}" for day, _ in days]
    channels = _channels(days, "booked:")
    bookings = [[counts.get(f"booked:{c}", 0) for c in channels] for _, counts in days]
    screenings = [[counts.get(f"screened:{o}", 0) for o, _ in OUTCOMES] for _, counts in days]
    totals = [(c, [sum(day[i] for day in bookings)]) for i, c in enumerate(channels)]
    return (
        "<h2>Per day</h2>"
        + charts.columns(
            "c-bookings", "Bookings per day, by channel", labels, bookings, _series(channels)
        )
        + charts.columns(
            "c-screenings",
            "Screenings per day, by outcome",
            labels,
            screenings,
            [(o.replace("_", " "), colour) for o, colour in OUTCOMES],
        )
        + "<h2>Channel mix</h2>"
        + charts.bar_groups(
            "c-channels",
            f"Bookings by channel, last {len(days)} days",
            totals,
            [("bookings", charts.COLOURS[2])],
        )
    )


def _by_regency(stats: dict[str, Any]) -> str:
    totals = stats["totals"]
    outcomes = [(o.replace("_", " "), [totals[o]]) for o, _ in OUTCOMES]
    regencies = sorted(stats["by_regency"].items(), key=lambda kv: (-kv[1]["screened"], kv[0]))
    rows = [(name, [c["screened"], c["booked"], c["checked_in"]]) for name, c in regencies]
    more = len(rows) - REGENCIES_SHOWN
    note = f"<p>And {more} more regencies (GET /api/stats has them all).</p>" if more > 0 else ""
    series = [
        ("screened", charts.COLOURS[2]),
        ("booked", charts.COLOURS[0]),
        ("checked in", charts.COLOURS[1]),
    ]
    return (
        "<h2>Screening outcomes</h2>"
        + charts.bar_groups(
            "c-outcomes",
            "Registrants by latest screening",
            outcomes,
            [("registrants", charts.COLOURS[0])],
        )
        + "<h2>By regency</h2>"
        + charts.bar_groups(
            "c-regency",
            "Screened, booked and checked in, by regency",
            rows[:REGENCIES_SHOWN],
            series,
        )
        + note
    )


def _seats(figures: Figures) -> str:
    rows = [(f"{f.name} ({f.regency})", f.seats_left) for f in figures.seats]
    days = [f"{day:%d/%m}" for day in figures.seat_days]
    return "<h2>Seats left</h2>" + charts.heat_table(
        "c-seats", "Seats left per day at the fullest facilities", rows, days
    )


def _blasts(figures: Figures) -> str:
    series = [
        ("delivered", "#0b6e4f"),
        ("awaiting receipt", "#2f6690"),
        ("failed", "#9e2a2b"),
        ("expired", "#e09f3e"),
        ("opted out", "#5a6570"),
    ]
    rows = []
    for c in figures.campaigns:
        parts = [c["delivered"], c["pending"], c["failed"], c["expired"], c["opted_out"]]
        rows.append((f"{c['name']} ({c['state']})", parts, c["total"]))
    more = f"<p>And {figures.more_campaigns} older campaigns.</p>" if figures.more_campaigns else ""
    return (
        "<h2>SMS blasts</h2>"
        + charts.stacked_rows("c-blasts", "Blast progress and delivery receipts", rows, series)
        + more
    )


def figures_html(figures: Figures, utc_offset_hours: float) -> str:
    local = datetime.fromtimestamp(figures.at, UTC) + timedelta(hours=utc_offset_hours)
    return (
        f'<p id="figures-at">Figures at {local:%H:%M:%S} (UTC{utc_offset_hours:+g})</p>'
        + _tiles(figures.stats)
        + _per_day(figures.days)
        + _by_regency(figures.stats)
        + _seats(figures)
        + _blasts(figures)
    )


def page_body(figures: Figures, refresh_seconds: int, utc_offset_hours: float) -> str:
    return (
        "<h1>Dashboard</h1>"
        f'<div id="live" data-refresh="{max(refresh_seconds, 0)}">'
        f"{figures_html(figures, utc_offset_hours)}</div>"
        '<p><a href="/dashboard">Reload the figures</a></p>'
        f"<script>{REFRESHER}</script>"
    )
