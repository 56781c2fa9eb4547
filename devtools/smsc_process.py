"""The development SMSC as a separate process: start it, learn its ports, stop it.

Tests and the SMS benchmark talk to a real simulator over TCP; this is the one
place that launches it (`python -m ussd_server smsc-sim`, free ports, the ports
read from the JSON line it prints first).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

from core.config import PROJECT_ROOT


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
        proc = subprocess.Popen(
            [sys.executable, "-m", "ussd_server", "smsc-sim",
             "--port", "0", "--control-port", "0", *args],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            raise RuntimeError("the SMSC simulator did not start")
        ports = json.loads(line)
        return cls(proc, ports["smpp_port"], ports["control_port"])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
