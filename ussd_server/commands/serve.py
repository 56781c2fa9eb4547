"""`python -m ussd_server serve`: the HTTP server (gateway endpoints, operator API)."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
from collections.abc import Callable
from typing import Any

from core import metrics
from core.config import Config
from core.config_values import limits_of, number_text
from core.settings import HttpSettings, http_settings
from devtools.phone_page import simulator_settings
from gateways.dialects import DIALECTS
from ussd_server.app import create_app, run_server, startup_warnings
from ussd_server.settings import console_settings
from whatsapp.settings import whatsapp_settings


def register(sub: Any) -> None:
    parser = sub.add_parser("serve", help="run the USSD/SMS session server", description=__doc__)
    parser.add_argument("--host", help="address to listen on (default: [http] host)")
    parser.add_argument("--port", type=_http_limited("port"), help="port (default: [http] port)")
    parser.add_argument(
        "--workers",
        type=_http_limited("workers"),
        help="processes sharing the port ([http] workers)",
    )
    parser.set_defaults(func=serve)


def _http_limited(name: str) -> Callable[[str], int]:
    """An argparse type for a flag that overrides ``[http] <name>``: the same limits as
    the setting (declared once, on HttpSettings), refused with the same words."""
    field = next(field for field in dataclasses.fields(HttpSettings) if field.name == name)
    low, high = limits_of(field).low, limits_of(field).high
    allowed = f"a whole number from {number_text(low or 0)} to {number_text(high or 0)}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if (
            value is None
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            raise argparse.ArgumentTypeError(f"{text!r}: expected {allowed} (as [http] {name})")
        return value

    parse.__name__ = name  # argparse names the type in its "invalid ... value" message
    return parse


def serve(args: argparse.Namespace, config: Config) -> int:
    http = http_settings(config)
    host = args.host or http.host
    port = args.port if args.port is not None else http.port
    workers = args.workers if args.workers is not None else http.workers
    create_app(config)  # a dry run: settings, secrets and menus are checked before forking
    metrics.forget_dead_processes()  # counters of earlier runs' processes start afresh
    for warning in startup_warnings(config):
        print(f"warning: {warning}", file=sys.stderr)

    banner = functools.partial(_banner, config, host, port, workers)
    named = "--port" if args.port is not None else "[http] port"
    return run_server(config, host, port, workers, banner, port_setting=named)


def _banner(config: Config, host: str, port: int, workers: int) -> None:
    base = f"http://{host}:{port}"
    print(f"serving on {base} with {workers} worker(s)", flush=True)
    for name in DIALECTS:
        print(f"  USSD gateway ({name}): POST {base}/ussd/{name}")
    print(f"  AT session events:      POST {base}/ussd/africastalking/events")
    if whatsapp_settings(config).enabled:
        print(f"  WhatsApp webhook:       GET/POST {base}/whatsapp/webhook")
    print(f"  health:                 GET  {base}/healthz")
    print(f"  operator API:           {base}/api/  (Bearer token)")
    if console_settings(config).enabled:
        print(f"  help desk, dashboard:   {base}/helpdesk  {base}/dashboard")
    if simulator_settings(config).enabled:
        print(f"  phone in the browser:   {base}/simulator  (development)")
    sys.stdout.flush()
