"""Ctrl-C while the server is still starting ends it quietly: exit code 130 and no
traceback (it was a KeyboardInterrupt traceback from wherever the import had got to)."""

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


def test_ctrl_c_while_importing_exits_130_without_a_traceback() -> None:
    argv = [sys.executable, "-m", "ussd_server", "serve", "--port", str(free_port())]
    env = serve_env("USSD_SERVICE_LOG_LEVEL", "INFO")
    server = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    time.sleep(0.15)  # well inside the imports (they take most of a second)
    server.send_signal(signal.SIGINT)
    try:
        _, stderr = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    assert server.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
