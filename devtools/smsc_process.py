"""The development simulators as separate processes: start one, learn its ports, stop it.

Tests and benchmarks talk to real simulators over TCP; this is the one place
that launches them (`python -m ussd_server smsc-sim` or `wa-sim` on free ports,
the ports read from the JSON line each prints first).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from core.config import PROJECT_ROOT


def launch(command: str, *args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start `python -m ussd_server <command> <args>`; returns it and its first line (JSON)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ussd_server", command, *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError(f"{command} did not start")
    return proc, json.loads(line)


def terminate(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


@dataclass
class SimProcess:
    proc: subprocess.Popen[str]
    smpp_port: int
    control_port: int

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    @classmethod
    def start(cls, *args: str) -> SimProcess:
        """Start a simulator on free ports; ``args`` are extra `smsc-sim` switches."""
        proc, ports = launch("smsc-sim", "--port", "0", "--control-port", "0", *args)
        return cls(proc, ports["smpp_port"], ports["control_port"])

    def stop(self) -> None:
        terminate(self.proc)
