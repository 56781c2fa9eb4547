"""`serve --workers N`: the parent process that forks the workers and watches them.

The parent serves nothing itself. It takes SIGINT/SIGTERM over before the first fork
(the signals are blocked around each fork, so a stop can never land between a fork
and the parent knowing the child), and on a stop it stops every worker it started,
waits for them and returns 0. A worker still running ``stop_grace`` seconds after its
SIGTERM (stuck in a C call, a handler that never returns, stopped) is killed with
SIGKILL, in one line of log, and the parent returns EXIT_KILLED: a stop must end
(`systemctl stop` waited for it without limit). A worker that exits when no stop was
asked is logged and started again with the same index (worker 0 keeps its extra
duties); when workers keep dying the parent stops the others and returns EXIT_FAILED
rather than serve on short-handed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SIGALRM = signal.SIGALRM  # the stop's grace is over (an interval timer, armed on the stop)
MAX_RESTARTS = 5  # restarts allowed within RESTART_WINDOW seconds; one more death gives up
RESTART_WINDOW = 60.0
EXIT_FAILED = 1  # workers kept dying
EXIT_KILLED = 3  # stopped, but a worker had to be killed when the grace ran out


def exit_text(status: int) -> str:
    """A waitpid status as people read it: "exited with status 1", "killed by SIGKILL"."""
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


class Supervisor:
    """Runs ``run_worker(index)`` in ``count`` forked processes until a stop signal."""

    def __init__(
        self, count: int, run_worker: Callable[[int], int], stop_grace: float = 20.0
    ) -> None:
        self.count = count
        self.run_worker = run_worker
        self.stop_grace = stop_grace
        self.children: dict[int, int] = {}  # pid -> worker index
        self.stopping = False
        self.killed: list[int] = []  # pids killed when the grace ran out
        self.restarts: deque[float] = deque()

    def run(self, announce: Callable[[], None] = lambda: None) -> int:
        """Take the stop signals over, ``announce()``, start the workers, replace the
        ones that die; the exit code."""
        previous = {signum: signal.getsignal(signum) for signum in (*STOP_SIGNALS, SIGALRM)}
        with _signals_blocked():  # a signal in between is delivered once the handler is in
            for signum in STOP_SIGNALS:
                signal.signal(signum, self._stop_requested)
            signal.signal(SIGALRM, self._grace_over)
        try:
            announce()  # after the handlers: a stop asked once this is out is obeyed
            for index in range(self.count):
                self._start(index)
            failed = self._watch()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)  # first: SIGALRM's default ends a process
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if self.killed:
            pids = ", ".join(str(pid) for pid in self.killed)
            log.error(
                "stop: %d worker(s) still running %g s after SIGTERM, killed with SIGKILL (pid %s)",
                len(self.killed),
                self.stop_grace,
                pids,
            )
        if failed:
            return EXIT_FAILED
        return EXIT_KILLED if self.killed else 0

    def _start(self, index: int) -> None:
        with _signals_blocked():
            if self.stopping:
                return
            pid = os.fork()
            if pid == 0:
                self._child(index)
            self.children[pid] = index

    def _child(self, index: int) -> None:
        """In the forked process: the worker's own signal handling, then the worker."""
        code = 1
        try:
            for signum in STOP_SIGNALS:  # until its event loop takes them over
                signal.signal(signum, signal.SIG_DFL)
            signal.signal(SIGALRM, signal.SIG_DFL)  # the parent's grace is not the worker's
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            code = self.run_worker(index)
        except BaseException:
            log.exception("worker %d failed", index)
        finally:
            os._exit(code)  # never run the parent's clean-up in a child

    def _watch(self) -> bool:
        """Reap workers until none is left; True when they kept dying (a crash loop)."""
        failed = False
        while self.children:
            try:
                pid, status = os.waitpid(-1, 0)  # a stop signal's handler runs meanwhile
            except ChildProcessError:  # the last ones were reaped by _grace_over
                break
            index = self.children.pop(pid, None)
            if index is None or self.stopping:
                continue
            log.error("worker %d (pid %d) %s", index, pid, exit_text(status))
            if self._crash_loop():
                log.error(
                    "workers keep exiting (%d restarts within %.0f s): stopping the server",
                    MAX_RESTARTS,
                    RESTART_WINDOW,
                )
                failed = True
                self._stop_all()
                continue
            self._start(index)
        return failed

    def _crash_loop(self) -> bool:
        now = time.monotonic()
        while self.restarts and now - self.restarts[0] > RESTART_WINDOW:
            self.restarts.popleft()
        if len(self.restarts) >= MAX_RESTARTS:
            return True
        self.restarts.append(now)
        return False

    def _stop_requested(self, signum: int, frame: object) -> None:
        self._stop_all()

    def _stop_all(self) -> None:
        if not self.stopping:  # the grace runs from the first stop, not from a second one
            signal.setitimer(signal.ITIMER_REAL, self.stop_grace)
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _grace_over(self, signum: int, frame: object) -> None:
        """SIGALRM, ``stop_grace`` after the stop: kill the workers still running. It lands
        while ``_watch`` waits in waitpid, which then reaps them."""
        for pid in list(self.children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)  # one that has just exited is no kill
            except ChildProcessError:  # reaped by _watch an instant ago, not yet popped
                done = pid
            if done:
                self.children.pop(pid, None)
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self.killed.append(pid)
