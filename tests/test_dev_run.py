"""`make run` (``python -m ussd_server dev``) under a terminal's Ctrl-C.

A terminal sends SIGINT to the whole foreground process group. The server must be
stopped before the Redis and the peers it is still talking to, so that stopping
leaves no traceback and no process behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.redis_server import free_port, needs_redis_server

ROOT = Path(__file__).resolve().parent.parent


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@needs_redis_server
def test_ctrl_c_stops_everything_in_order_without_a_traceback(tmp_path: Path) -> None:
    http, redis, smsc, wa = free_port(), free_port(), free_port(), free_port()
    env = dict(
        os.environ,
        USSD_HTTP_PORT=str(http),
        USSD_REDIS_URL="",
        USSD_REDIS_PRIVATE_PORT=str(redis),
        USSD_REDIS_PRIVATE_DIR=str(tmp_path / "redis"),
        USSD_SMSC_SIM_PORT=str(smsc),
        USSD_SMSC_SIM_CONTROL_PORT=str(free_port()),
        USSD_WA_SIM_PORT=str(wa),
        USSD_METRICS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    log = (tmp_path / "dev.log").open("w+")
    dev = subprocess.Popen(
        [sys.executable, "-m", "ussd_server", "dev", "--no-demo"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a process group of its own, as a terminal's job is
    )
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C stops everything" not in Path(log.name).read_text():
            assert dev.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, "make run did not get ready in 60 s"
            time.sleep(0.2)
        time.sleep(1.5)  # the SMS and WhatsApp channels are running, Redis in use
        os.killpg(dev.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert dev.wait(timeout=60) == 0
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)
    output = Path(log.name).read_text()
    assert "Traceback" not in output and " ERROR " not in output, output
    stopped = output[output.index("Ctrl-C stops everything") :]
    order = ["stopping server", "stopping SMSC simulator", "stopping private redis-server"]
    assert [stopped.index(step) for step in order] == sorted(stopped.index(s) for s in order)
    assert not any(listening(port) for port in (http, redis, smsc, wa))
