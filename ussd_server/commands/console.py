"""`python -m ussd_server console-agent add|remove|list`: per-agent console passwords.

Writes ``[console] agents_file`` (``name:<scrypt hash>`` lines, mode 0600). The
password is asked for twice without echo, or read from standard input with
``--password-stdin`` (for scripts; only the line ending, LF or CR LF, is
dropped). A password is kept exactly as given, spaces included, and the sign-in
form compares it exactly as typed. Agents can also sign in with an operator
token of their own (a ``label:token`` line in the operator token file).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from core.config import Config
from ussd_server.console.passwords import (
    AgentFileError,
    check_agent_name,
    read_agents,
    remove_agent,
    set_agent,
)
from ussd_server.settings import console_settings


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "console-agent",
        help="add, remove or list help-desk agents (console passwords)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=("add", "remove", "list"))
    parser.add_argument("name", nargs="?", help="the agent's name (add, remove)")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    parser.set_defaults(func=console_agent)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        # One line ending only: a file saved on Windows ends its line with "\r\n",
        # and any space around the password is part of it (the form keeps it too).
        line = sys.stdin.readline()
        line = line.removesuffix("\n")
        return line.removesuffix("\r")
    try:
        first = getpass.getpass("password: ")
        again = getpass.getpass("again: ")
    except EOFError:  # no terminal and nothing on standard input
        raise AgentFileError("no password given: type it twice, or use --password-stdin") from None
    if again != first:
        raise AgentFileError("the two passwords differ")
    return first


def _agents_path(config: Config) -> Path:
    setting = console_settings(config).agents_file
    if not setting:
        raise AgentFileError("[console] agents_file is empty: set it to use passwords")
    return config.resolve_path(setting)


def console_agent(args: argparse.Namespace, config: Config) -> int:
    try:
        path = _agents_path(config)
        if args.action == "list":
            for name in sorted(read_agents(path)):
                print(name)
            return 0
        if not args.name:
            raise AgentFileError(f"{args.action} needs the agent's name")
        if args.action == "remove":
            removed = remove_agent(path, args.name)
            print(f"removed {args.name}" if removed else f"no agent named {args.name}")
            return 0 if removed else 1
        check_agent_name(args.name)  # before asking for a password it could not use
        new = set_agent(path, args.name, _password(args.password_stdin))
        print(f"{'added' if new else 'changed the password of'} {args.name} in {path}")
        return 0
    except AgentFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
