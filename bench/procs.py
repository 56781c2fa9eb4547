"""What the benchmarks share about processes: free ports, a server's processes, their CPU,
its metrics."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_pids(parent: int) -> list[int]:
    pids = [parent]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                pids.append(int(entry))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def stop(proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """SIGINT (a server's clean stop), then SIGKILL if it takes longer than ``timeout``."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def histogram_means(port: int, name: str, label: str) -> dict[str, float]:
    """A server's histogram ``name`` (its /metrics on ``port``): the mean in ms per value
    of ``label``."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    sums: dict[str, list[float]] = {}  # label value -> [sum, count]
    for family in text_string_to_metric_families(text):
        if family.name == name:
            for sample in family.samples:
                if sample.name.endswith(("_sum", "_count")):
                    pair = sums.setdefault(sample.labels[label], [0.0, 0.0])
                    pair[sample.name.endswith("_count")] += sample.value
    return {value: 1000 * total / n for value, (total, n) in sums.items() if n}
