"""``GET /metrics``: the Prometheus text format, every process of this host summed.

With ``USSD_METRICS_TOKEN`` or ``[metrics] token_file`` set, a scrape must carry
``Authorization: Bearer <token>``; without one the endpoint is open and `serve`
warns. Figures that live in Redis (the outbox's depth, each campaign's recipients
by state) are read at scrape time; while Redis is down they are left out of the
scrape (one WARNING per outage, ``vaksin_redis_errors_total{client="metrics"}``)
and every other series is still exposed, so the outage itself shows in Prometheus.
"""

from __future__ import annotations

import logging

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from redis.exceptions import RedisError

from core import metrics
from core.httpjson import json_error
from core.secret_compare import same_secret
from smpp.campaign_store import CampaignStore
from smpp.keys import SmsKeys
from smpp.settings import sms_settings
from ussd_server.context import CONTEXT, AppContext

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BLAST_STATES = (
    *("queued", "in_flight", "submitted", "pending"),
    *("delivered", "failed", "expired", "opted_out"),
)


async def _outbox_depth(ctx: AppContext, keys: SmsKeys) -> int:
    """SMS waiting for the SMS channel: not yet read by its group, or read and not sent."""
    stream, group = keys.sms_outbox(), sms_settings(ctx.config).outbox_group
    if not await ctx.redis.exists(stream):
        return 0
    for info in await ctx.redis.xinfo_groups(stream):
        if info["name"] == group:
            return int(info.get("lag") or 0) + int(info["pending"])
    return int(await ctx.redis.xlen(stream))


async def redis_figures(ctx: AppContext) -> bytes:
    keys = SmsKeys(ctx.key_prefix)
    registry = CollectorRegistry()
    depth = GaugeMetricFamily("vaksin_sms_outbox_depth", "SMS queued for the SMS channel")
    depth.add_metric([], await _outbox_depth(ctx, keys))
    blasts = GaugeMetricFamily(
        "vaksin_blast_recipients",
        "Each campaign's recipients by state",
        labels=["campaign", "state"],
    )
    store = CampaignStore(ctx.redis, keys)
    for name in await store.names():
        progress = await store.progress(name)
        for state in BLAST_STATES if progress else ():
            blasts.add_metric([name, state], progress[state])  # type: ignore[index]

    class Snapshot:
        def collect(self) -> list[GaugeMetricFamily]:
            return [depth, blasts]

    registry.register(Snapshot())  # type: ignore[arg-type]
    return generate_latest(registry)


class _RedisOutage:
    """Whether the last scrape of this process failed to read Redis: a scrape every few
    seconds during a long outage must not fill the log, so one line per outage."""

    down = False


async def redis_figures_or_none(ctx: AppContext) -> bytes:
    """The Redis-read gauges, or nothing when Redis fails (counted, logged once)."""
    try:
        figures = await redis_figures(ctx)
    except (RedisError, OSError) as exc:
        metrics.REDIS_ERRORS.labels("metrics").inc()
        if not _RedisOutage.down:
            _RedisOutage.down = True
            log.warning("/metrics: Redis unavailable, outbox and campaign gauges left out: %s", exc)
        return b""
    if _RedisOutage.down:
        _RedisOutage.down = False
        log.info("/metrics: Redis answers again, outbox and campaign gauges are back")
    return figures


def metrics_handler(token: str | None):  # type: ignore[no-untyped-def]
    expected = f"Bearer {token}".encode() if token else b""

    async def scrape(request: web.Request) -> web.Response:
        if expected:
            given = request.headers.get("Authorization", "")
            if not same_secret(given, expected):
                raise json_error(web.HTTPUnauthorized, "missing or wrong bearer token")
        # Redis first: a failure it counts is then in this very scrape.
        figures = await redis_figures_or_none(request.config_dict[CONTEXT])
        body = metrics.exposition() + figures
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return scrape
