"""`python -m ussd_server ussd-inject`: a USSD handset on the development SMSC.

The simulator plays the network: `--text "*119#"` dials (a deliver_sm opening the
dialogue over SMPP), `--text 1` answers on the open dialogue, `--abort` hangs up,
`--repeat` makes the network send the last hop again. It prints the screen the
service sent back.
"""

from __future__ import annotations

import argparse
from typing import Any

from core.config import Config
from devtools.smsc_cli import control_call, control_url


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "ussd-inject", help="dial or answer USSD through the running simulator (SMPP)"
    )
    parser.add_argument("--from", dest="sender", required=True, help="the phone, 62...")
    parser.add_argument("--text", default="", help='"*119#" dials; anything else answers')
    parser.add_argument("--abort", action="store_true", help="hang up the open dialogue")
    parser.add_argument("--repeat", action="store_true", help="the network repeats the last hop")
    parser.add_argument("--to", default="", help="destination_addr (default: the dialled code)")
    parser.add_argument("--wait", type=float, default=5.0, help="seconds to wait for the screen")
    parser.add_argument("--control", help="simulator control URL (default from [smsc_sim])")
    parser.set_defaults(func=run_ussd_inject)


def run_ussd_inject(args: argparse.Namespace, config: Config) -> int:
    if not (args.text or args.abort or args.repeat):
        print("give --text (a dial such as *119#, or an answer), --abort or --repeat")
        return 2
    base = control_url(args.control, config)
    body = {
        "from": args.sender,
        "text": args.text,
        "to": args.to,
        "abort": args.abort,
        "repeat": args.repeat,
        "wait": args.wait,
    }
    shown = "(hangs up)" if args.abort else "(network repeats the last hop)" if args.repeat else ""
    print(f"> {args.sender}: {shown or args.text}")
    screen = control_call(base, "/ussd", body, timeout=args.wait + 5)
    if screen is None:
        return 1
    if screen.get("closed"):
        print("[dialogue closed]")
        return 0
    for line in str(screen["text"]).splitlines() or [""]:
        print(f"< {line}")
    if screen["end"]:
        print("[end of dialogue]")
    else:
        print(f"[answer with: ussd-inject --from {args.sender} --text <your answer>]")
    return 0
