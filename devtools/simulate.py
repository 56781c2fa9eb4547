"""`python -m ussd_server simulate`: a phone in the terminal, talking to a running server.

It speaks a gateway's dialect over HTTP exactly as that gateway would (Africa's
Talking cumulative text, Hubtel Type/Sequence, or the plain JSON dialect) and
shows each screen in a handset-like box. Interactive by default; ``--inputs
1,1,123456`` plays a script and stops at the END screen.
"""

from __future__ import annotations

import argparse
import asyncio
import textwrap
import uuid
from typing import Any

import aiohttp

from core.config import Config
from core.settings import http_settings

WIDTH = 30


def register(sub: Any) -> None:
    parser = sub.add_parser("simulate", help="dial *119# from the terminal", description=__doc__)
    parser.add_argument(
        "--dialect", choices=("africastalking", "hubtel", "json"), default="africastalking"
    )
    parser.add_argument("--phone", default="6281200000001", help="the subscriber's number")
    parser.add_argument("--url", help="server base URL (default: from [http])")
    parser.add_argument("--code", default="*119#", help="service code dialled")
    parser.add_argument("--inputs", help="comma-separated answers to play, then stop")
    parser.set_defaults(func=simulate)


class Gateway:
    """One USSD session as a gateway of `dialect` would run it."""

    def __init__(self, http: aiohttp.ClientSession, url: str, dialect: str, phone: str, code: str):
        self.http, self.url, self.dialect = http, f"{url}/ussd/{dialect}", dialect
        self.phone, self.code = phone, code
        self.session_id = uuid.uuid4().hex[:16]
        self.inputs: list[str] = []

    async def hop(self, value: str | None) -> tuple[bool, str]:
        """`None` dials; otherwise sends one answer. Returns (end, screen text)."""
        if value is not None:
            self.inputs.append(value)
        n = len(self.inputs)
        if self.dialect == "africastalking":
            form = {
                "sessionId": self.session_id,
                "serviceCode": self.code,
                "phoneNumber": "+" + self.phone.lstrip("+"),
                "networkCode": "51010",
                "text": "*".join(self.inputs),
            }
            async with self.http.post(self.url, data=form) as resp:
                body = await resp.text()
            if resp.status != 200:
                return True, f"HTTP {resp.status}: {body}"
            return body.startswith("END"), body[4:]
        if self.dialect == "hubtel":
            payload = {
                "Type": "Initiation" if value is None else "Response",
                "Message": self.code if value is None else value,
                "Mobile": self.phone,
                "SessionId": self.session_id,
                "ServiceCode": self.code,
                "Operator": "simulator",
                "Sequence": n + 1,
            }
            async with self.http.post(self.url, json=payload) as resp:
                data = await resp.json(content_type=None)
            return data.get("Type") != "Response", data.get("Message") or str(data)
        payload = {
            "session_id": self.session_id,
            "msisdn": self.phone,
            "service_code": self.code,
            "input": value or "",
            "new_session": value is None,
            "hop": n,
        }
        async with self.http.post(self.url, json=payload) as resp:
            data = await resp.json(content_type=None)
        return bool(data.get("end", True)), data.get("text") or str(data)


def screen_lines(text: str) -> list[str]:
    """A screen as a handset shows it: lines of at most WIDTH characters."""
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(textwrap.wrap(line, WIDTH) or [""])
    return lines


def box(text: str, end: bool) -> str:
    lines = screen_lines(text)
    top = "+" + "-" * (WIDTH + 2) + "+"
    body = [f"| {line:<{WIDTH}} |" for line in lines]
    footer = "(session ended)" if end else "(reply, or q to hang up)"
    return "\n".join([top, *body, top, footer])


async def _run(args: argparse.Namespace, url: str) -> int:
    script = [s.strip() for s in args.inputs.split(",")] if args.inputs else None
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
        gateway = Gateway(http, url.rstrip("/"), args.dialect, args.phone, args.code)
        end, text = await gateway.hop(None)
        print(box(text, end))
        loop = asyncio.get_running_loop()
        while not end:
            if script is not None:
                if not script:
                    return 0
                answer = script.pop(0)
                print(f"> {answer}")
            else:
                answer = (await loop.run_in_executor(None, input, "> ")).strip()
                if answer.lower() == "q":
                    return 0
            end, text = await gateway.hop(answer)
            print(box(text, end))
    return 0


def simulate(args: argparse.Namespace, config: Config) -> int:
    http = http_settings(config)
    url = args.url or f"http://{http.host}:{http.port}"
    try:
        return asyncio.run(_run(args, url))
    except aiohttp.ClientError as exc:
        print(f"cannot reach {url}: {exc}")
        return 1
    except EOFError:
        return 0
