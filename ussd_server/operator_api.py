"""Operator HTTP API (bearer token) and public routes. Owned by the lead; see setup()."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Add /healthz, /tickets/{code}.png|.svg and the /api/ sub-app to ``app``.

    The app factory calls this once; handlers find shared objects under
    ``ussd_server.context.CONTEXT``.
    """
