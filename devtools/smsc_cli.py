"""Development SMSC commands: `smsc-sim` (the simulator) and `sms-inject` (a phone's SMS).

`make run` starts `smsc-sim`; `sms-inject` sends an SMS through its control port and
prints the replies that reached the phone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from core import aio
from core.config import Config
from core.phone import normalise_phone
from devtools.smsc_settings import sim_settings
from smpp.settings import sms_settings


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
    sim.add_argument(
        "--refuse-part", type=int, help="RTHROTTLED once per number to part N of a long SMS"
    )
    sim.add_argument("--latency", type=float, help="seconds added to every answer")
    sim.add_argument("--no-receipts", action="store_true", help="send no delivery receipts")
    sim.add_argument("--ussd-variant", help="how its network speaks USSD ([smpp] ussd_variant)")
    sim.add_argument(
        "--lean", action="store_true", help="record only counts per number, not texts (benchmarks)"
    )
    sim.set_defaults(func=run_sim)

    inject = sub.add_parser("sms-inject", help="send an SMS into the running simulator")
    inject.add_argument("--from", dest="sender", required=True, help="the phone, 62...")
    inject.add_argument("--text", help="the SMS (required unless --repeat)")
    inject.add_argument(
        "--repeat",
        action="store_true",
        help="the SMSC sends this phone's last SMS again, same sequence number (a lost answer)",
    )
    inject.add_argument("--to", help="service number (default [sms] service_number)")
    inject.add_argument("--wait", type=float, default=3.0, help="seconds to wait for replies")
    inject.add_argument("--control", help="simulator control URL (default from [smsc_sim])")
    inject.set_defaults(func=run_inject)


def run_sim(args: argparse.Namespace, config: Config) -> int:
    from devtools.smsc_control import run

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
        "refuse_part",
        "latency",
        "ussd_variant",
    ):
        value = getattr(args, attr)
        if value is not None:
            setattr(s, attr, value)
    if args.no_receipts:
        s.receipts = False
    aio.run(run(s, record_text=not args.lean))
    return 0


def control_url(given: str | None, config: Config) -> str:
    """The simulator's control URL: as given, else from `[smsc_sim]`."""
    if given:
        return given.rstrip("/")
    s = sim_settings(config)
    return f"http://{s.host}:{s.control_port}"


def http_json(url: str, body: dict[str, Any] | None = None, timeout: float = 5.0) -> Any:
    """GET (no body) or POST JSON to the control port; the answer's JSON."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def control_call(
    base: str, path: str, body: dict[str, Any] | None = None, timeout: float = 5.0
) -> Any | None:
    """The control port's JSON answer, or None after saying on stderr why there is none."""
    try:
        return http_json(base + path, body, timeout)
    except urllib.error.HTTPError as exc:
        print(f"simulator refused: {exc.read().decode(errors='replace')}", file=sys.stderr)
    except OSError as exc:
        print(f"cannot reach the simulator at {base}: {exc}", file=sys.stderr)
    return None


def run_inject(args: argparse.Namespace, config: Config) -> int:
    phone = normalise_phone(args.sender)  # "+62 812-..." as people write it
    if not phone.ok:
        print(f"--from: {phone.reason}", file=sys.stderr)
        return 2
    if args.text is None and not args.repeat:
        print("--text is required (or --repeat)", file=sys.stderr)
        return 2
    args.sender = phone.value
    base = control_url(args.control, config)
    to = args.to or sms_settings(config).service_number
    seen = control_call(base, f"/messages?to={args.sender}")
    body: dict[str, Any] = {"from": args.sender, "to": to, "text": args.text}
    if args.repeat:
        body = {"from": args.sender, "repeat": True}
    if seen is None or control_call(base, "/inject", body) is None:
        return 1
    before = len(seen["messages"])
    print(f"> {args.sender} -> {to}: {'(its last SMS again)' if args.repeat else args.text}")
    deadline = time.monotonic() + args.wait
    shown = before
    while time.monotonic() < deadline:
        messages = http_json(f"{base}/messages?to={args.sender}")["messages"]
        for text in messages[shown:]:
            print(f"< {text}")
        shown = max(shown, len(messages))
        time.sleep(0.3)
    if shown == before:
        print("(no reply yet)")
    return 0
