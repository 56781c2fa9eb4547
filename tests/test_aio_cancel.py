"""Stopping background loops for sure: redis-py can absorb a cancellation that lands
mid-command, and the loop around the command then goes on. The stop that cancelled it
once and waited (``task.cancel(); await task``) never ended: Ctrl-C just after the start
hung the server (the outbox trim loop went back to its minute's sleep)."""

from __future__ import annotations

import asyncio

from core.aio import cancel_until_done


async def _absorbs_one_cancellation(ticks: list[int]) -> None:
    """A loop around a command that turns the first cancellation into an error."""
    absorbed = False
    while True:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            if absorbed:
                raise
            absorbed = True
            asyncio.current_task().uncancel()  # what a swallowed cancellation looks like
        ticks.append(1)
        await asyncio.sleep(0)


async def test_a_loop_that_absorbs_a_cancellation_is_still_stopped() -> None:
    ticks: list[int] = []
    stubborn = asyncio.create_task(_absorbs_one_cancellation(ticks))
    await asyncio.sleep(0.05)
    await asyncio.wait_for(cancel_until_done(stubborn), 10)
    assert stubborn.cancelled() and ticks
    running_on = len(ticks)
    await asyncio.sleep(0.05)
    assert len(ticks) == running_on  # it does nothing after the stop


async def test_a_task_that_ended_with_an_error_does_not_fail_the_stop() -> None:
    async def fails() -> None:
        raise RuntimeError("a loop that died earlier")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await cancel_until_done(task)
    assert isinstance(task.exception(), RuntimeError)
