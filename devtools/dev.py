"""`python -m ussd_server dev` (what `make run` runs): the whole service on one machine.

Starts, in order: development secrets (once), Redis (the configured one, or a
private append-only redis-server under var/redis), the development SMSC and the
development WhatsApp Graph API, demo data when the registry is empty, and the
server with the SMS channel bound to the SMSC, the WhatsApp channel pointed at
the Graph API (which posts its webhooks to the server) and the
phone-in-the-browser page (/simulator) turned on. Everything it started stops on
Ctrl-C (or SIGTERM), in reverse.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis as sync_redis

from core.config import Config
from core.settings import http_settings, redis_settings
from devtools.private_redis import PrivateRedis, plan_redis
from devtools.secrets import ensure_dev_secrets
from devtools.smsc_settings import sim_settings
from devtools.wa_sim import wa_sim_settings
from devtools.wa_sim_process import GRAPH_VERSION
from registration.keys import RegistryKeys


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "dev",
        help="run Redis, the development SMSC and the server with demo data (make run)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--no-smsc", action="store_true", help="do not start the SMSC simulator")
    parser.add_argument(
        "--no-whatsapp", action="store_true", help="do not start the development Graph API"
    )
    parser.add_argument("--no-demo", action="store_true", help="do not load demo data")
    parser.set_defaults(func=run_dev)


class Children:
    """Child processes started by `dev`, stopped in reverse order."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.redis: PrivateRedis | None = None

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        # A session of its own: the terminal's Ctrl-C reaches `dev` alone, which stops the
        # children in order (the server before the peers and Redis it is still using).
        proc = subprocess.Popen(
            [sys.executable, "-m", "ussd_server", *argv], env=env, start_new_session=True
        )
        self.procs.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for name, proc in reversed(self.procs):  # the server first, then the peers
            if proc.poll() is None:
                print(f"stopping {name}...", file=sys.stderr)
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.redis is not None:
            print("stopping private redis-server (data kept in var/redis)...", file=sys.stderr)
            self.redis.stop()


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout}s")


def _start_redis(config: Config, children: Children) -> str:
    """The configured Redis, or a private append-only one under var/redis; its URL."""
    settings = redis_settings(config)
    url, private = plan_redis(
        settings.url, settings.private_port, config.resolve_path(settings.private_dir)
    )
    if private is None:
        print(f"using Redis at {url}")
        return url
    children.redis = private
    private.start()
    print(f"started private redis-server on {private.url} (data in {private.data_dir})")
    return url


def _start_smsc(config: Config, children: Children, env: dict[str, str]) -> None:
    """The development SMSC, and the server's SMS channel bound to it (its own credentials)."""
    sim = sim_settings(config)
    proc = children.spawn("SMSC simulator", ["smsc-sim", "--port", str(sim.port)], env)
    _wait_for_port(sim.port, proc, "the SMSC simulator", 15)
    env.update(
        USSD_SMPP_ENABLED="true",
        USSD_SMPP_HOST="127.0.0.1",
        USSD_SMPP_PORT=str(sim.port),
        USSD_SMPP_SYSTEM_ID=sim.system_id,
        USSD_SMPP_PASSWORD=sim.password,
    )


def _start_whatsapp(config: Config, children: Children, env: dict[str, str]) -> None:
    """The development Graph API, and the server's WhatsApp channel pointed at it."""
    sim, http = wa_sim_settings(config), http_settings(config)
    webhook = f"http://{http.host}:{http.port}/whatsapp/webhook"
    proc = children.spawn("WhatsApp Graph API", ["wa-sim", "--webhook", webhook], env)
    _wait_for_port(sim.port, proc, "the development Graph API", 15)
    env.update(
        USSD_WHATSAPP_ENABLED="true",
        USSD_WHATSAPP_GRAPH_BASE_URL=f"http://{sim.host}:{sim.port}/{GRAPH_VERSION}",
        USSD_WHATSAPP_PHONE_NUMBER_ID=sim.phone_number_id,
        USSD_WHATSAPP_ACCESS_TOKEN=sim.access_token,
        USSD_WHATSAPP_APP_SECRET=sim.app_secret,
        USSD_WHATSAPP_VERIFY_TOKEN=sim.verify_token,
    )


def _print_ready(base: str) -> None:
    print(
        "\nready:\n"
        f"  USSD (Africa's Talking) POST {base}/ussd/africastalking\n"
        f"  USSD (Hubtel)           POST {base}/ussd/hubtel\n"
        f"  USSD (plain JSON)       POST {base}/ussd/json\n"
        f"  WhatsApp webhook        GET/POST {base}/whatsapp/webhook (unless --no-whatsapp)\n"
        f"  operator API            {base}/api/  (token in var/secrets/operator_api_token)\n"
        f"  API description         {base}/api/docs\n"
        f"  registration website    {base}/daftar  (codes arrive at the development SMSC)\n"
        f"  help desk, dashboard    {base}/helpdesk  {base}/dashboard  (sign in with that token)\n"
        f"  phone in the browser    {base}/simulator\n"
        f"  health                  {base}/healthz\n"
        "  try a phone:  .venv/bin/python -m ussd_server simulate\n"
        "  try SMS:      .venv/bin/python -m ussd_server sms-inject --from 62812... "
        "--text VAKSIN\n"
        "  try USSD over SMPP: .venv/bin/python -m ussd_server ussd-inject --from 62812... "
        '--text "*119#"\n'
        "  try WhatsApp: .venv/bin/python -m ussd_server wa-inject --from 62812... "
        "--text VAKSIN\n"
        "                then --button ID or --list ID as printed ([button ...], [list ...])\n"
        "Ctrl-C stops everything.",
        flush=True,
    )


def _start_all(args: argparse.Namespace, config: Config, children: Children) -> None:
    # A server on this machine only, for trying it out: the gateway endpoints need no
    # authentication here (a production `serve` refuses to start like that).
    env = dict(
        os.environ,
        USSD_REDIS_URL=_start_redis(config, children),
        USSD_USSD_ALLOW_UNAUTHENTICATED="true",
        USSD_OPERATOR_API_PUBLIC_DESCRIPTION="true",
        USSD_WEB_ENABLED="true",
        USSD_SIMULATOR_ENABLED="true",
    )
    print("make run: USSD gateway endpoints accept unauthenticated callers (local server)")
    if args.config:
        env["USSD_CONFIG"] = str(Path(args.config).resolve())
    if args.no_smsc:
        print("--no-smsc: the SMS channel stays off", file=sys.stderr)
    else:
        _start_smsc(config, children, env)
    if args.no_whatsapp:
        print("--no-whatsapp: the WhatsApp channel stays off", file=sys.stderr)
    else:
        _start_whatsapp(config, children, env)
    if not args.no_demo and _registry_empty(env["USSD_REDIS_URL"], config):
        print("registry is empty: loading demo data...")
        subprocess.run(
            [sys.executable, "-m", "ussd_server", "demo-data", "--load"], env=env, check=True
        )
    http = http_settings(config)
    server = children.spawn("server", ["serve"], env)
    _wait_for_port(http.port, server, "the server", 30)
    _print_ready(f"http://{http.host}:{http.port}")


def run_dev(args: argparse.Namespace, config: Config) -> int:
    for path in ensure_dev_secrets(config):
        print(f"generated development secret {path}", file=sys.stderr)
    children = Children()

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Also SIGINT: a shell that started us in the background may have ignored it.
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        _start_all(args, config, children)
        while all(proc.poll() is None for _, proc in children.procs):
            time.sleep(0.5)
        dead = [name for name, proc in children.procs if proc.poll() is not None]
        print(f"{', '.join(dead)} stopped: shutting down the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"make run failed: {exc}", file=sys.stderr)
        return 1
    finally:
        children.stop_all()


def _registry_empty(url: str, config: Config) -> bool:
    client = sync_redis.Redis.from_url(url)
    try:
        return not client.exists(RegistryKeys(redis_settings(config).key_prefix).all_workers())
    finally:
        client.close()
