"""Ctrl-C while the server is still starting ends it quietly: exit code 130 and no
traceback (it was a KeyboardInterrupt traceback from wherever the import had got to,
and now and then no exit at all: a library's clean-up swallowed it and the start went
on); Ctrl-C once it runs stops it, however soon after the start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.redis_server import free_port
from tests.test_config_limits import serve_env

ROOT = Path(__file__).resolve().parent.parent


def _start() -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "ussd_server", "serve", "--port", str(free_port())]
    env = serve_env("USSD_SERVICE_LOG_LEVEL", "INFO")
    return subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip


def _ended(server: subprocess.Popen[str]) -> str:
    try:
        _, stderr = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    return stderr


def _importing(pid: int) -> bool:
    """aiohttp's C parser is mapped: the command line's imports are under way."""
    try:
        return "aiohttp" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_ctrl_c_while_importing_exits_130_without_a_traceback() -> None:
    server = _start()
    deadline = time.monotonic() + 30
    while not _importing(server.pid) and time.monotonic() < deadline:
        time.sleep(0.002)
    server.send_signal(signal.SIGINT)
    stderr = _ended(server)
    assert server.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr


def test_ctrl_c_at_any_moment_of_the_start_ends_the_server() -> None:
    """From the imports to the first seconds of serving (the SMS channel reconnecting
    to an SMSC that is not there): each Ctrl-C ends the process, without a traceback."""
    for delay in (0.3, 0.5, 0.6, 0.7, 0.8, 1.0, 1.5):
        server = _start()
        time.sleep(delay)
        server.send_signal(signal.SIGINT)
        stderr = _ended(server)
        assert server.returncode in (0, 130), (delay, stderr)
        assert "Traceback" not in stderr, (delay, stderr)
