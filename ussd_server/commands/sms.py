"""SMS commands: `sms-worker` (the SMS channel alone) and `blast ...` (campaigns)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

from redis.exceptions import RedisError

from core import aio
from core.config import Config
from smpp import campaigns
from smpp.campaign_store import CampaignError, CampaignStore
from smpp.keys import SmsKeys
from smpp.service import SmsService
from smpp.settings import blast_settings
from ussd_server.context import AppContext, build_context

ACTIONS = ("start", "pause", "resume", "cancel")


def register(sub: Any) -> None:
    worker = sub.add_parser(
        "sms-worker", help="run the SMS channel without the HTTP server (outbox, MO, blasts)"
    )
    worker.set_defaults(func=run_worker)

    blast = sub.add_parser("blast", help="PEDULICOVID blast campaigns")
    bsub = blast.add_subparsers(dest="blast_command", required=True, metavar="<action>")
    create = bsub.add_parser("create", help="create a draft campaign (lints the template)")
    create.add_argument("name")
    create.add_argument(
        "--template",
        required=True,
        help="text with {first_name} {nik_masked} {keyword} {short_code}",
    )
    create.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="regency=..., profession=..., facility_id=... (repeatable)",
    )
    create.add_argument("--only-unregistered", action="store_true")
    create.set_defaults(func=run_blast)
    for action in ACTIONS:
        p = bsub.add_parser(action, help=f"{action} a campaign")
        p.add_argument("name")
        p.set_defaults(func=run_blast)
    status = bsub.add_parser("status", help="progress of a campaign")
    status.add_argument("name")
    status.add_argument("--watch", action="store_true", help="live progress bar")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=run_blast)
    bsub.add_parser("list", help="all campaigns").set_defaults(func=run_blast)
    run = bsub.add_parser("run", help="send a campaign in the foreground (no HTTP server)")
    run.add_argument("name")
    run.add_argument(
        "--takeover",
        action="store_true",
        help="re-queue at once the batches other senders hold (they crashed), "
        "instead of waiting for their leases to expire",
    )
    run.set_defaults(func=run_blast)


# --- worker and blasts -------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _service(ctx: AppContext, **kw: bool) -> AsyncIterator[tuple[SmsService, asyncio.Event]]:
    """The SMS channel started, and an event set by SIGINT/SIGTERM; stopped on the way out."""
    service = SmsService(
        ctx.config, ctx.redis, ctx.outbox, ctx.registry, ctx.engine, lean=ctx.lean, **kw
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await service.start()
    try:
        yield service, stop
    finally:
        await service.stop()


async def _worker(config: Config) -> None:
    ctx = build_context(config)
    try:
        async with _service(ctx) as (_, stop):
            await stop.wait()
    finally:
        await ctx.aclose()


def run_worker(args: argparse.Namespace, config: Config) -> int:
    aio.run(_worker(config))
    return 0


def done_count(p: dict[str, Any]) -> int:
    """Recipients the blast is through with: submitted, refused for good, opted out while
    sending. Counted as the total less those still queued (retrying ones too) or in
    flight: "failed" also counts failed receipts, of messages already submitted, and
    "opted_out" those left out before queueing, so adding counters counts some twice."""
    return min(p["total"], max(0, p["total"] - p["queued"] - p["in_flight"]))


def progress_bar(p: dict[str, Any], width: int = 30) -> str:
    done = done_count(p)
    filled = int(width * done / max(p["total"], 1))
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {done}/{p['total']} "
        f"queued {p['queued']} (retrying {p['retrying']}) submitted {p['submitted']} "
        f"delivered {p['delivered']} failed {p['failed']} expired {p['expired']} "
        f"pending {p['pending']} {p['rate']:.0f}/s {p['state']}"
    )


PROGRESS_FIELDS = (
    *("total", "queued", "retrying", "in_flight", "submitted", "delivered", "failed"),
    *("expired", "pending", "opted_out", "rate", "senders"),
)


def _latency_line(latency: dict[str, Any]) -> str:
    if not latency.get("count"):
        return "no final receipt yet"
    spread = ", ".join(f"{q} {latency[q]:g} s" for q in ("p50", "p90", "p99"))
    return f"{spread} ({latency['count']} receipts)"


def _print_progress(p: dict[str, Any]) -> None:
    print(f"campaign {p['name']}: {p['state']}")
    for key in PROGRESS_FIELDS:
        print(f"  {key:<10} {p[key]}")
    print(f"  {'receipts':<10} {_latency_line(p['receipt_seconds'])}")
    lint = p.get("lint") or {}
    if lint:
        print(f"  encoding   {lint.get('encoding')}, {lint.get('parts')} part(s) per message")
        for warning in lint.get("warnings", []):
            print(f"  warning: {warning}")


async def _status(store: CampaignStore, args: argparse.Namespace) -> None:
    p = await campaigns.progress(store, args.name)
    if args.json:
        print(json.dumps(p, indent=2))
        return
    if not args.watch:
        _print_progress(p)
        return
    while True:
        print("\r" + progress_bar(p), end="", flush=True)
        if p["state"] in ("done", "cancelled"):
            print()
            return
        await asyncio.sleep(1)
        p = await campaigns.progress(store, args.name)


async def _command(ctx: AppContext, store: CampaignStore, args: argparse.Namespace) -> int:
    cmd = args.blast_command
    if cmd == "create":
        filters = campaigns.parse_filters(args.filter)
        blast = blast_settings(ctx.config)
        p = await campaigns.create(
            store, blast, args.name, args.template, filters, args.only_unregistered
        )
        _print_progress(p)
    elif cmd in ACTIONS:
        p = await campaigns.transition(store, args.name, cmd)
        print(f"campaign {args.name}: {p['state']}")
        if cmd == "start":
            print("the running server (or `blast run NAME`) sends it")
    elif cmd == "list":
        for p in await campaigns.listing(store):
            print(f"{p['name']:<24} {progress_bar(p)}")
    elif cmd == "status":
        await _status(store, args)
    elif cmd == "run":
        return await _run_campaign(ctx, store, args.name, args.takeover)
    return 0


async def _blast(args: argparse.Namespace, config: Config) -> int:
    ctx = build_context(config)
    store = CampaignStore(ctx.redis, SmsKeys(ctx.key_prefix))
    try:
        return await _command(ctx, store, args)
    except CampaignError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except campaigns.NotFound:
        print(f"error: no campaign named {args.name!r}", file=sys.stderr)
        return 1
    finally:
        await ctx.aclose()


async def _run_campaign(ctx: AppContext, store: CampaignStore, name: str, takeover: bool) -> int:
    p = await campaigns.progress(store, name)
    if p["state"] == "draft":
        await campaigns.transition(store, name, "start")
    async with _service(ctx, run_campaigns=False, run_outbox=False) as (service, stop):
        task = asyncio.create_task(service.runner().run(name, stop, takeover=takeover))
        while not task.done():
            await asyncio.wait({task}, timeout=1)
            try:
                p = await campaigns.progress(store, name)
            except (RedisError, OSError):  # a Redis hiccup (failover): the blast waits it out
                continue
            print("\r" + progress_bar(p), end="", flush=True)
        print()
        print(f"campaign {name}: {task.result()}")
    return 0


def run_blast(args: argparse.Namespace, config: Config) -> int:
    return int(aio.run(_blast(args, config)))
