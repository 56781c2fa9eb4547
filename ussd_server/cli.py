"""`python -m ussd_server <command>`: one command line for operators and developers.

Each command group lives in its own module under `ussd_server/commands/` and
exposes ``register(subparsers)``; a command's handler takes the parsed args and
the loaded :class:`~registration.config.Config` and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from registration.config import ConfigError, load_config
from registration.privacy import setup_logging

COMMAND_MODULES = (
    "ussd_server.commands.serve",
    "ussd_server.commands.registry",
    "ussd_server.commands.simulate",
    "ussd_server.commands.sms",
    "ussd_server.commands.dev",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ussd_server",
        description="Vaccination registration over USSD *119# and SMS.",
    )
    parser.add_argument(
        "--config", metavar="PATH", help="settings file (default: config.toml or $USSD_CONFIG)"
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    setup_logging(str(config.section("service").get("log_level", "INFO")))
    try:
        return int(args.func(args, config) or 0)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
