"""Campaign routes for the operator API (mounted on the /api sub-app; shared objects come
from `request.config_dict[CONTEXT]`, which sees the root app).

POST /campaigns                       {"name", "template", "filters", "only_unregistered"}
POST /campaigns/{name}/start|pause|resume|cancel   409 {"error", "state"} when refused
GET  /campaigns/{name}                progress JSON
GET  /campaigns                       every campaign's progress
"""

from __future__ import annotations

import json

from aiohttp import web

from core.httpjson import json_error, read_json_object
from smpp import campaigns
from smpp.campaign_store import CampaignError, CampaignStore, StateConflict
from smpp.keys import SmsKeys
from smpp.settings import blast_settings
from ussd_server.context import CONTEXT, AppContext


def campaign_store(ctx: AppContext) -> CampaignStore:
    """The blast campaigns of this service (the API and the dashboard read them so)."""
    return CampaignStore(ctx.redis, SmsKeys(ctx.key_prefix))


def _store(request: web.Request) -> CampaignStore:
    return campaign_store(request.config_dict[CONTEXT])


async def create_campaign(request: web.Request) -> web.Response:
    ctx = request.config_dict[CONTEXT]
    body = await read_json_object(request)
    name, template = body.get("name"), body.get("template")
    if not isinstance(name, str) or not isinstance(template, str):
        raise json_error(web.HTTPBadRequest, "name and template (strings) are required")
    filters = body.get("filters")
    if filters is None:  # absent or null: no filter, the whole registry
        filters = {}
    if not isinstance(filters, dict | list):
        raise json_error(web.HTTPBadRequest, 'filters: an object such as {"regency": "Bandung"}')
    # bool("false") is True: only a JSON boolean says what the operator meant.
    only_unregistered = body.get("only_unregistered", False)
    if not isinstance(only_unregistered, bool):
        raise json_error(web.HTTPBadRequest, "only_unregistered: true or false (a JSON boolean)")
    try:
        progress = await campaigns.create(
            _store(request),
            blast_settings(ctx.config),
            name,
            template,
            campaigns.parse_filters(filters),
            only_unregistered,
        )
    except CampaignError as exc:
        raise json_error(web.HTTPBadRequest, str(exc)) from exc
    return web.json_response(progress, status=201)


async def campaign_action(request: web.Request) -> web.Response:
    name, action = request.match_info["name"], request.match_info["action"]
    if action not in campaigns.TRANSITIONS:
        raise json_error(web.HTTPNotFound, f"unknown action {action!r}")
    try:
        progress = await campaigns.transition(_store(request), name, action)
    except campaigns.NotFound as exc:
        raise json_error(web.HTTPNotFound, f"no campaign named {name!r}") from exc
    except StateConflict as exc:  # the body says the state it is in now
        body = json.dumps({"error": str(exc), "state": exc.state})
        raise web.HTTPConflict(text=body, content_type="application/json") from exc
    return web.json_response(progress)


async def campaign_progress(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    try:
        return web.json_response(await campaigns.progress(_store(request), name))
    except campaigns.NotFound as exc:
        raise json_error(web.HTTPNotFound, f"no campaign named {name!r}") from exc


async def campaign_list(request: web.Request) -> web.Response:
    return web.json_response({"campaigns": await campaigns.listing(_store(request))})


def add_campaign_routes(app: web.Application) -> None:
    app.router.add_post("/campaigns", create_campaign)
    app.router.add_get("/campaigns", campaign_list)
    app.router.add_get("/campaigns/{name}", campaign_progress)
    app.router.add_post("/campaigns/{name}/{action}", campaign_action)
