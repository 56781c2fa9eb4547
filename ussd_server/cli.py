"""`python -m ussd_server <command>`: one command line for operators and developers.

Each command group lives in its own module (`ussd_server/commands/` for the
service, `devtools/` for development tools) and exposes ``register(subparsers)``;
a command's handler takes the parsed args and the loaded
:class:`~core.config.Config` and returns an exit code.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from redis.exceptions import RedisError

from core.config import ConfigError, load_config
from core.logs import setup_logging
from core.privacy import redact
from core.settings import service_settings
from devtools import dev, simulate, smsc_cli, ussd_cli, wa_cli
from ussd_server.commands import console, registry, serve, sms

# Each module adds its commands with ``register(subparsers)``.
COMMAND_MODULES = (serve, registry, sms, console, simulate, smsc_cli, ussd_cli, wa_cli, dev)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ussd_server",
        description="Vaccination registration over USSD *119# and SMS.",
    )
    parser.add_argument(
        "--config", metavar="PATH", help="settings file (default: config.toml or $USSD_CONFIG)"
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    try:
        service = service_settings(config)
        setup_logging(service.log_level, service.log_format)
        if args.command != "serve":  # serve's event loop takes Ctrl-C over as it starts
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return int(args.func(args, config) or 0)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except (RedisError, OSError) as exc:  # Redis or a file away: say so, no traceback
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1
