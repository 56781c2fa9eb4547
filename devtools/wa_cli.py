"""Development WhatsApp commands: `wa-sim` (the Graph API) and `wa-inject` (a phone's message).

`make run` starts `wa-sim` and points the server at it; `wa-inject` sends a
message, a button or a list reply through it as a signed webhook and prints
what the phone receives back.
"""

from __future__ import annotations

import argparse
import urllib.parse
from typing import Any

from core import aio
from core.config import Config
from devtools.smsc_cli import control_call, http_json
from devtools.wa_sim import wa_sim_settings


def register(sub: Any) -> None:
    sim = sub.add_parser("wa-sim", help="run the development WhatsApp Graph API")
    sim.add_argument("--host")
    sim.add_argument("--port", type=int, help="port (0 = any free port)")
    sim.add_argument("--webhook", help="the server's webhook URL ([wa_sim] webhook_url)")
    sim.add_argument("--latency", type=float, help="seconds added to every Graph answer")
    sim.add_argument("--no-statuses", action="store_true", help="post no sent/delivered statuses")
    sim.set_defaults(func=run_sim)

    inject = sub.add_parser("wa-inject", help="send a WhatsApp message into the running server")
    inject.add_argument("--from", dest="sender", required=True, help="the phone, 62...")
    what = inject.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help="a typed message (VAKSIN, YA, 123456...)")
    what.add_argument("--button", metavar="ID", help="tap the reply button with this id")
    what.add_argument("--list", metavar="ID", help="pick the list row with this id")
    what.add_argument("--image", action="store_true", help="send a picture")
    inject.add_argument("--wait", type=float, default=3.0, help="seconds to wait for replies")
    inject.add_argument("--control", help="development Graph API URL (default from [wa_sim])")
    inject.set_defaults(func=run_inject)


def run_sim(args: argparse.Namespace, config: Config) -> int:
    from devtools.wa_control import run

    settings = wa_sim_settings(config)
    for attr, value in (("host", args.host), ("port", args.port), ("latency", args.latency),
                        ("webhook_url", args.webhook)):  # fmt: skip
        if value is not None:
            setattr(settings, attr, value)
    if args.no_statuses:
        settings.statuses = False
    aio.run(run(settings))
    return 0


def show(message: dict[str, Any]) -> str:
    """One received message as a few readable lines."""
    kind = message.get("type")
    if kind == "text":
        return message["text"]["body"]
    if kind == "image":
        image = message["image"]
        return f"(image) {image.get('link') or image.get('id')}  {image.get('caption', '')}"
    if kind == "template":
        return f"(template {message['template']['name']})"
    inter = message.get("interactive", {})
    lines = [inter.get("body", {}).get("text", "")]
    action = inter.get("action", {})
    for button in action.get("buttons", []):
        lines.append(f"  [button {button['reply']['id']}] {button['reply']['title']}")
    for section in action.get("sections", []):
        lines.append(f"  ({action.get('button')} {section.get('title', '')})".rstrip())
        for row in section["rows"]:
            extra = f" - {row['description']}" if row.get("description") else ""
            lines.append(f"  [list {row['id']}] {row['title']}{extra}")
    return "\n".join(lines)


def run_inject(args: argparse.Namespace, config: Config) -> int:
    s = wa_sim_settings(config)
    base = (args.control or f"http://{s.host}:{s.port}").rstrip("/")
    phone = urllib.parse.quote(args.sender)
    body: dict[str, Any] = {"from": args.sender}
    if args.text is not None:
        body["text"] = args.text
    elif args.button:
        body["button"] = args.button
    elif args.list:
        body["list"] = args.list
    seen = control_call(base, f"/control/messages?to={phone}")
    answer = control_call(base, "/control/inject", body) if seen is not None else None
    if seen is None or answer is None:
        return 1
    before = len(seen["messages"])
    print(f"> {args.sender}: {args.text or args.button or args.list or '(image)'}"
          f"  (webhook answered {answer['webhook_statuses']})")  # fmt: skip
    wait = f"/control/wait?to={phone}&count={before + 1}&timeout={args.wait}"
    received = control_call(base, wait, None, args.wait + 5)
    if received is None:
        return 1
    messages = received["messages"]
    if len(messages) > before:  # a reply may come in several messages: give them a moment
        messages = http_json(f"{base}/control/wait?to={phone}&count=999&timeout=0.5")["messages"]
    for message in messages[before:]:
        print("< " + show(message).replace("\n", "\n  "))
    if len(messages) == before:
        print("(no reply yet)")
    return 0
