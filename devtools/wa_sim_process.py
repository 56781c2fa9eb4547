"""The development Graph API as a separate process (tests, the benchmark)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from devtools.smsc_process import launch, terminate

GRAPH_VERSION = "v23.0"


@dataclass
class WaSimProcess:
    proc: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graph_base_url(self) -> str:
        return f"{self.url}/{GRAPH_VERSION}"

    @classmethod
    def start(cls, *args: str) -> WaSimProcess:
        """Start it on a free port; ``args`` are extra `wa-sim` switches."""
        proc, ports = launch("wa-sim", "--port", "0", *args)
        return cls(proc, ports["port"])

    def stop(self) -> None:
        terminate(self.proc)
