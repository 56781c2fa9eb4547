"""SMS commands: `smsc-sim`, `sms-inject`, `sms-worker` and `blast ...`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from registration.config import Config
from registration.store import connect, keys_for
from smpp import campaigns
from smpp.campaign_store import CampaignError
from smpp.settings import sim_settings

ACTIONS = ("start", "pause", "resume", "cancel")


def register(sub: Any) -> None:
    sim = sub.add_parser("smsc-sim", help="run the development SMSC (SMPP simulator)")
    sim.add_argument("--host")
    sim.add_argument("--port", type=int, help="SMPP port (0 = any free port)")
    sim.add_argument("--control-port", type=int, help="HTTP control port (0 = any free port)")
    sim.add_argument("--system-id")
    sim.add_argument("--password")
    sim.add_argument("--throttle-every", type=int, help="answer every Nth submit RTHROTTLED")
    sim.add_argument("--max-rate", type=float, help="RTHROTTLED above this many submits/s")
    sim.add_argument("--drop-after", type=int, help="cut each connection after N submits")
    sim.add_argument("--latency", type=float, help="seconds added to every answer")
    sim.add_argument("--no-receipts", action="store_true", help="send no delivery receipts")
    sim.add_argument(
        "--lean", action="store_true", help="record only counts per number, not texts (benchmarks)"
    )
    sim.set_defaults(func=run_sim)

    inject = sub.add_parser("sms-inject", help="send an SMS into the running simulator")
    inject.add_argument("--from", dest="sender", required=True, help="the phone, 62...")
    inject.add_argument("--text", required=True)
    inject.add_argument("--to", help="service number (default [sms] service_number)")
    inject.add_argument("--wait", type=float, default=3.0, help="seconds to wait for replies")
    inject.add_argument("--control", help="simulator control URL (default from [smsc_sim])")
    inject.set_defaults(func=run_inject)

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
        help="take the sending lease even if a (crashed) process still holds it",
    )
    run.set_defaults(func=run_blast)


# --- simulator ---------------------------------------------------------------------------


def run_sim(args: argparse.Namespace, config: Config) -> int:
    from smpp.sim_control import run

    s = sim_settings(config)
    for attr in (
        "host",
        "port",
        "control_port",
        "system_id",
        "password",
        "throttle_every",
        "max_rate",
        "drop_after",
        "latency",
    ):
        value = getattr(args, attr)
        if value is not None:
            setattr(s, attr, value)
    if args.no_receipts:
        s.receipts = False
    _run_loop(run(s, record_text=not args.lean))
    return 0


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)
    return uvloop.run(coro)


def _control_url(args: argparse.Namespace, config: Config) -> str:
    if args.control:
        return args.control.rstrip("/")
    s = sim_settings(config)
    return f"http://{s.host}:{s.control_port}"


def _http(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def run_inject(args: argparse.Namespace, config: Config) -> int:
    base = _control_url(args, config)
    to = args.to or str(config.section("sms").get("service_number", "1199"))
    try:
        before = len(_http(f"{base}/messages?to={args.sender}")["messages"])
        _http(f"{base}/inject", {"from": args.sender, "to": to, "text": args.text})
    except urllib.error.HTTPError as exc:
        print(f"simulator refused: {exc.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot reach the simulator at {base}: {exc}", file=sys.stderr)
        return 1
    print(f"> {args.sender} -> {to}: {args.text}")
    deadline = time.monotonic() + args.wait
    shown = before
    while time.monotonic() < deadline:
        messages = _http(f"{base}/messages?to={args.sender}")["messages"]
        for text in messages[shown:]:
            print(f"< {text}")
        shown = max(shown, len(messages))
        time.sleep(0.3)
    if shown == before:
        print("(no reply yet)")
    return 0


# --- worker and blasts -------------------------------------------------------------------


async def _context(config: Config, with_engine: bool) -> Any:
    from ussd_server.context import AppContext

    redis = connect(config)
    registry = engine = None
    if with_engine:
        from dialogue.engine import Engine
        from registration.service import Registry

        registry = Registry.from_config(config, redis)
        engine = Engine.from_config(config, registry, redis)
    return AppContext(config, redis, keys_for(config), registry, engine)


async def _worker(config: Config) -> None:
    import signal

    from smpp.service import SmsService

    ctx = await _context(config, with_engine=True)
    service = SmsService(ctx)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await service.start()
    try:
        await stop.wait()
    finally:
        await service.stop()
        await ctx.engine.aclose()
        await ctx.registry.aclose()
        await ctx.redis.aclose()


def run_worker(args: argparse.Namespace, config: Config) -> int:
    _run_loop(_worker(config))
    return 0


def _bar(p: dict[str, Any], width: int = 30) -> str:
    total = max(p["total"], 1)
    done = p["submitted"] + p["failed"] + p["opted_out"]
    filled = int(width * done / total)
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {done}/{p['total']} "
        f"queued {p['queued']} submitted {p['submitted']} delivered {p['delivered']} "
        f"failed {p['failed']} expired {p['expired']} {p['rate']:.0f}/s {p['state']}"
    )


def _print_progress(p: dict[str, Any]) -> None:
    print(f"campaign {p['name']}: {p['state']}")
    for key in (
        "total",
        "queued",
        "in_flight",
        "submitted",
        "delivered",
        "failed",
        "expired",
        "opted_out",
        "rate",
    ):
        print(f"  {key:<10} {p[key]}")
    lint = p.get("lint") or {}
    if lint:
        print(f"  encoding   {lint.get('encoding')}, {lint.get('parts')} part(s) per message")
        for warning in lint.get("warnings", []):
            print(f"  warning: {warning}")


async def _blast(args: argparse.Namespace, config: Config) -> int:
    ctx = await _context(config, with_engine=False)
    redis, keys = ctx.redis, ctx.keys
    try:
        cmd = args.blast_command
        if cmd == "create":
            p = await campaigns.create(
                redis,
                keys,
                config,
                args.name,
                args.template,
                campaigns.parse_filters(args.filter),
                args.only_unregistered,
            )
            _print_progress(p)
        elif cmd in ACTIONS:
            p = await campaigns.transition(redis, keys, args.name, cmd)
            print(f"campaign {args.name}: {p['state']}")
            if cmd == "start":
                print("the running server (or `blast run NAME`) sends it")
        elif cmd == "list":
            for p in await campaigns.listing(redis, keys):
                print(f"{p['name']:<24} {_bar(p)}")
        elif cmd == "status":
            p = await campaigns.progress(redis, keys, args.name)
            if args.json:
                print(json.dumps(p, indent=2))
            elif args.watch:
                while True:
                    print("\r" + _bar(p), end="", flush=True)
                    if p["state"] in ("done", "cancelled"):
                        print()
                        break
                    await asyncio.sleep(1)
                    p = await campaigns.progress(redis, keys, args.name)
            else:
                _print_progress(p)
        elif cmd == "run":
            if args.takeover:
                await redis.delete(keys.campaign_lease(args.name))
            return await _run_campaign(ctx, args.name)
        return 0
    except CampaignError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except campaigns.NotFound:
        print(f"error: no campaign named {args.name!r}", file=sys.stderr)
        return 1
    finally:
        await redis.aclose()


async def _run_campaign(ctx: Any, name: str) -> int:
    import signal

    from smpp.service import SmsService

    p = await campaigns.progress(ctx.redis, ctx.keys, name)
    if p["state"] == "draft":
        await campaigns.transition(ctx.redis, ctx.keys, name, "start")
    service = SmsService(ctx, run_campaigns=False, run_outbox=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await service.start()
    task = asyncio.create_task(service.runner().run(name, stop))
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=1)
            p = await campaigns.progress(ctx.redis, ctx.keys, name)
            print("\r" + _bar(p), end="", flush=True)
        print()
        print(f"campaign {name}: {task.result()}")
    finally:
        await service.stop()
    return 0


def run_blast(args: argparse.Namespace, config: Config) -> int:
    return int(_run_loop(_blast(args, config)))
