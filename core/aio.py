"""Running a coroutine as a program's main (uvloop when installed, Linux), holding and
stopping background tasks for sure, and a value shared by concurrent callers for a few
seconds."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(main)
    return uvloop.run(main)


async def cancel_until_done(*tasks: asyncio.Future[Any]) -> None:
    """Cancel the tasks and wait for their end, cancelling again those that run on:
    redis-py's client can absorb a cancellation that lands mid-command, and a loop around
    the command then goes on (a stop waiting for it never ended: Ctrl-C just after the
    start hung the server). What the tasks raised is theirs: not raised here."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            task.result()


def run_held(tasks: set[asyncio.Task[Any]], coro: Coroutine[Any, Any, Any]) -> None:
    """Run ``coro`` as a task held in ``tasks`` until it ends: the event loop keeps only a
    weak reference to a task, and one nobody holds can be collected mid-flight."""
    task = asyncio.ensure_future(coro)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


class Shared(Generic[T]):
    """A value made at most once per ``seconds``, and once for callers who ask together:
    N viewers of a page that reads the whole database cost one read per interval. A
    failed attempt is not kept: the next caller tries again."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._task: asyncio.Future[T] | None = None
        self._until = 0.0

    async def get(self, make: Callable[[], Awaitable[T]]) -> T:
        task, now = self._task, time.monotonic()
        stale = task is None or (
            task.done() and (now >= self._until or task.cancelled() or task.exception())
        )
        if stale:
            task = self._task = asyncio.ensure_future(make())
            self._until = now + self.seconds
        assert task is not None
        return await asyncio.shield(task)  # one caller giving up does not cancel the rest
