"""The operator dashboard: live figures from the Registry, the activity counts and the blasts.

``GET /dashboard`` is a whole page; ``GET /dashboard/fragment`` is its figures
alone, which the page's small inline script fetches again every ``[console]
dashboard_refresh_seconds`` when JavaScript is on (without it, reload the page).
Everything is read fresh on each request: ``Registry.stats()``,
``Registry.facility_overview()`` (then ``available_slots`` for the fullest
facilities), :class:`ussd_server.activity.ActivityCounters` and the campaigns.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Any

from aiohttp import web

from smpp import campaigns
from ussd_server.api_campaigns import campaign_store
from ussd_server.console import dashboard_view
from ussd_server.console.base import Console, Form, frame, operator_page, respond
from ussd_server.console.dashboard_view import FacilitySeats, Figures
from ussd_server.console.sessions import Agent
from ussd_server.context import AppContext

MAX_CAMPAIGNS = 12


async def _seats(ctx: AppContext, facilities: int, days: int) -> tuple[list[date], list[Any]]:
    """Seats left per day at the ``facilities`` fullest facilities, over ``days`` days."""
    overview = await ctx.registry.facility_overview()

    def fill(row: dict[str, Any]) -> float:
        return row["booked"] / row["capacity"] if row["capacity"] else 1.0

    fullest = sorted(overview, key=lambda row: (-fill(row), row["name"]))[:facilities]
    per_facility = await asyncio.gather(
        *(ctx.registry.available_slots(row["facility_id"]) for row in fullest)
    )
    seat_days = sorted({slot.day for slots in per_facility for slot in slots})[:days]
    rows = [
        FacilitySeats(
            row["name"],
            row["regency"],
            [sum(s.seats_left for s in slots if s.day == day) for day in seat_days],
        )
        for row, slots in zip(fullest, per_facility, strict=True)
    ]
    return seat_days, rows


async def gather(console: Console) -> Figures:
    ctx, settings = console.ctx, console.settings
    stats = await ctx.registry.stats()
    days = await ctx.activity.read(ctx.redis, settings.dashboard_days)
    seat_days, seats = await _seats(ctx, settings.dashboard_facilities, settings.seats_days)
    progress = await campaigns.listing(campaign_store(ctx))
    progress.sort(key=lambda item: -item.get("created", 0))
    return Figures(
        stats,
        days,
        seat_days,
        seats,
        progress[:MAX_CAMPAIGNS],
        max(len(progress) - MAX_CAMPAIGNS, 0),
        time.time(),
    )


@operator_page
async def page(request: web.Request, console: Console, agent: Agent, form: Form) -> web.Response:
    figures = await console.figures.get(lambda: gather(console))
    refresh = console.settings.dashboard_refresh_seconds
    offset = console.ctx.activity.utc_offset_hours
    body = dashboard_view.page_body(figures, refresh, offset)
    return respond(frame("Dashboard", body, agent, console), scripts=[dashboard_view.REFRESHER])


@operator_page
async def fragment(
    request: web.Request, console: Console, agent: Agent, form: Form
) -> web.Response:
    figures = await console.figures.get(lambda: gather(console))
    offset = console.ctx.activity.utc_offset_hours
    return respond(dashboard_view.figures_html(figures, offset))
