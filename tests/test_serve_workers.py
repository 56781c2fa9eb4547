"""`serve --workers N`'s parent supervises its workers.

Before: a SIGTERM landing while the parent forked left workers serving the port with
no parent (the handlers came after the forks); a dead worker was never replaced (kill
them all and the parent exited 0); workers that could not bind logged tracebacks and
the parent exited 0; a second `serve` on a served port joined it through SO_REUSEPORT;
`--port 70000` printed "serving on ...:70000" and listened on 4464; a worker that did not
end on SIGTERM held the stop without limit; a taken gateway-listener port was found by
the workers, which died and were restarted until the crash-loop rule gave up.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from tests.redis_server import free_port
from tests.test_config_limits import serve_env
from ussd_server.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


class Serve:
    """One `serve` in its own process group, its output in files (never a full pipe)."""

    def __init__(
        self, tmp: Path, port: int, *args: str, env: dict[str, str] | None = None, flag=True
    ):
        """``flag=False``: the port comes from ``[http] port`` instead of ``--port``."""
        self.port, self.out, self.err = port, tmp / f"out-{port}", tmp / f"err-{port}"
        argv = [sys.executable, "-m", "ussd_server", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(port)] if flag else []
        env = {"USSD_HTTP_PORT": str(port), **(env or {})}
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                [*argv, *args],
                env={**serve_env("USSD_SERVICE_LOG_LEVEL", "INFO"), **env},
                cwd=ROOT, stdout=out, stderr=err, start_new_session=True,
            )  # fmt: skip
        self.pid = self.process.pid

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout=timeout)


@contextmanager
def serving(tmp: Path, port: int, *args: str, **options: Any) -> Iterator[Serve]:
    server = Serve(tmp, port, *args, **options)
    try:
        yield server
    finally:  # the parent and whatever it left behind: everything of its group
        for pid in [server.pid, *_group(server.pid)]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=10)


def _stat(pid: str) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) from /proc, None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid, pgrp = text.rsplit(")", 1)[1].split()[:3]
    return state, int(ppid), int(pgrp)


def _live(where: Callable[[tuple[str, int, int]], bool]) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        stat = _stat(name) if name.isdigit() else None
        if stat is not None and stat[0] != "Z" and where(stat):
            pids.append(int(name))
    return pids


def _group(pgid: int) -> list[int]:
    return [pid for pid in _live(lambda stat: stat[2] == pgid) if pid != pgid]


def _children(pid: int) -> set[int]:
    return set(_live(lambda stat: stat[1] == pid))


def _until(condition: Callable[[], object], timeout: float = 60, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(step)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def test_a_stop_right_after_the_banner_leaves_no_worker_behind(tmp_path: Path) -> None:
    for _ in range(3):
        with serving(tmp_path, free_port(), "--workers", "8") as server:
            _until(lambda: "serving on" in server.stdout(), step=0.002)
            server.process.send_signal(signal.SIGTERM)
            assert server.wait() == 0, server.stderr()
            # the parent waits for its workers: none may be left serving on its own
            _until(lambda: not _group(server.pid), timeout=5)


def test_dead_workers_are_replaced_with_their_index(tmp_path: Path) -> None:
    with serving(tmp_path, free_port(), "--workers", "2") as server:
        _until(lambda: len(_children(server.pid)) == 2 and _healthy(server.port))
        first = _children(server.pid)
        for pid in first:  # every worker, worker 0 (booking repair, SMS) among them
            os.kill(pid, signal.SIGKILL)
        _until(lambda: len(_children(server.pid) - first) == 2 and _healthy(server.port))
        assert server.process.poll() is None
        stderr = server.stderr()
        assert all(f"(pid {pid}) killed by SIGKILL" in stderr for pid in first), stderr
        assert "worker 0 (pid" in stderr and "worker 1 (pid" in stderr, stderr
        server.process.send_signal(signal.SIGTERM)
        assert server.wait() == 0, server.stderr()
        _until(lambda: not _group(server.pid), timeout=5)


def test_a_worker_that_ignores_the_stop_is_killed_when_the_grace_runs_out(
    tmp_path: Path,
) -> None:
    """A worker that cannot handle SIGTERM (here stopped with SIGSTOP, as one stuck in a C
    call) no longer holds the stop for good: after ``[http] stop_grace_seconds`` the
    parent kills it, says so in one line and exits 3."""
    grace = {"USSD_HTTP_STOP_GRACE_SECONDS": "2"}
    with serving(tmp_path, free_port(), "--workers", "2", env=grace) as server:
        _until(lambda: len(_children(server.pid)) == 2 and _healthy(server.port))
        stuck, *_ = _children(server.pid)
        os.kill(stuck, signal.SIGSTOP)
        server.process.send_signal(signal.SIGTERM)
        assert server.wait(timeout=2 + 30) == 3, server.stderr()  # a bound, not a benchmark
        killed = (
            f"stop: 1 worker(s) still running 2 s after SIGTERM, killed with SIGKILL (pid {stuck})"
        )
        assert killed in server.stderr(), server.stderr()
        assert _stat(str(stuck)) is None  # killed and reaped
        _until(lambda: not _group(server.pid), timeout=5)


def _not_warnings(stderr: str) -> list[str]:
    """What `serve` said besides its start-up warnings (the test settings cause some)."""
    return [line for line in stderr.splitlines() if not line.startswith("warning: ")]


def _holding(port: int, reuse_port: bool = False) -> socket.socket:
    """A listening socket of another program on 127.0.0.1:port (0 = any free port)."""
    holder = socket.socket()
    if reuse_port:  # as another `serve`'s workers listen
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", port))
    holder.listen()
    return holder


@pytest.mark.parametrize(
    ("taken", "workers", "reuse_port"),
    [
        ("[http] port", "2", False),
        ("--port", "1", False),
        ("[ussd] gateway_port", "2", False),
        ("[ussd] gateway_port", "1", False),
        ("[ussd] gateway_port", "2", True),  # another serve's listener: would be shared
    ],
)  # fmt: skip
def test_every_port_serve_binds_is_checked_before_it_starts(
    tmp_path: Path, taken: str, workers: str, reuse_port: bool
) -> None:
    """A port held by another program: one line naming its setting, exit 1, before the
    banner and before any worker is forked (no worker dying and restarting)."""
    with _holding(0, reuse_port) as holder:
        held = holder.getsockname()[1]
        main = held if taken != "[ussd] gateway_port" else free_port()
        gateway = {"USSD_USSD_GATEWAY_PORT": str(held if main != held else free_port())}
        flag = taken != "[http] port"
        with serving(tmp_path, main, "--workers", workers, env=gateway, flag=flag) as server:
            assert server.wait() == 1, server.stderr()
            stdout, stderr = server.stdout(), server.stderr()
    assert _not_warnings(stderr) == [f"error: port {held} ({taken}) is in use"], stderr
    assert "serving on" not in stdout, stdout


def test_the_gateway_port_cannot_be_the_main_port(tmp_path: Path) -> None:
    """Both listeners would share it (SO_REUSEPORT), each taking part of the traffic."""
    port = free_port()
    gateway = {"USSD_USSD_GATEWAY_PORT": str(port)}
    with serving(tmp_path, port, "--workers", "2", env=gateway) as server:
        assert server.wait() == 1, server.stderr()
        stderr = server.stderr()
    assert _not_warnings(stderr) == [f"error: port {port} ([ussd] gateway_port) is --port too"]


def test_a_port_already_served_is_refused(tmp_path: Path) -> None:
    """Another `serve` (its workers listen with SO_REUSEPORT) already has the port."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with serving(tmp_path, port, "--workers", "2") as server:
            assert server.wait() == 1, server.stderr()
            assert f"error: port {port} (--port) is in use" in server.stderr()
            assert "serving on" not in server.stdout()
            assert "Traceback" not in server.stderr()


@pytest.mark.parametrize(
    ("flag", "value", "limits"),
    [
        ("--port", "70000", "from 1 to 65,535"),
        ("--port", "-1", "from 1 to 65,535"),
        ("--workers", "0", "from 1 to 256"),
        ("--workers", "257", "from 1 to 256"),
    ],
)
def test_flags_have_the_settings_limits(
    flag: str, value: str, limits: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["serve", flag, value])
    assert stopped.value.code == 2
    assert (
        f"argument {flag}: '{value}': expected a whole number {limits}" in capsys.readouterr().err
    )
