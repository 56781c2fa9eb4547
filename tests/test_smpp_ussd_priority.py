"""USSD screens on a bind whose SMS side is stuck: the simulator process stalls or
throttles SMS submits (or refuses the screens themselves) over real TCP, and the
handset still gets its screen, with the deliver_sm_resp in time."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from core.outbox import OutboundSms
from core.privacy import mask_phone
from smpp import codec
from smpp.service import SmsService
from tests.keys import AllKeys
from tests.test_smpp_support import Sim
from tests.test_ussd_smpp import Handset, network
from tests.ussd_harness import PHONE

FIRST_SCREEN = "1. Daftar vaksinasi"


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the condition never came"
        await asyncio.sleep(0.05)


async def queue_sms(svc: SmsService, count: int) -> None:
    for i in range(count):
        sms = OutboundSms(f"6281299{i:06d}", f"Halo {i}", "ticket", f"prio:{i}")
        assert await svc.inbound.outbox.enqueue(sms)


async def resp_seconds(sim: Sim, hops: int) -> list[float]:
    """Seconds from each deliver_sm to its deliver_sm_resp, once all `hops` are answered."""
    for _ in range(40):
        seconds = (await sim.call("/stats"))["deliver_resp_seconds"]
        if len(seconds) >= hops:
            return seconds
        await asyncio.sleep(0.05)
    return seconds


def window_full(svc: SmsService) -> bool:
    return svc.pool.inflight() >= 2


def long_pause(svc: SmsService) -> bool:
    return any(s.window.paused_until > time.monotonic() + 3 for s in svc.pool.sessions)


@pytest.mark.parametrize(
    ("switch", "bind", "stuck"),
    [
        # the window (2) full of SMS the SMSC never answers (for 10 s)
        ("stall_sms", {"window": 2, "response_timeout": 10.0}, window_full),
        # every SMS answered RTHROTTLED: a throttle pause of 5 s, then 10 s, ...
        ("throttle_sms", {"throttle_pause": 5.0}, long_pause),
    ],
)
async def test_a_screen_does_not_wait_behind_stuck_sms(
    key_prefix: str,
    redis: aioredis.Redis,
    keys: AllKeys,
    switch: str,
    bind: dict[str, Any],
    stuck: Callable[[SmsService], bool],
) -> None:
    async with network(key_prefix, redis, keys, "standard", **bind) as (sim, svc):
        await sim.call("/config", {switch: True})
        await queue_sms(svc, 5)
        await until(lambda: stuck(svc))
        screen = await Handset(sim).hop(text="*119#", wait=2)  # 504 (an error) after 2 s
        seconds = await resp_seconds(sim, 1)
        assert stuck(svc), "the SMS side was stuck all along"
    assert FIRST_SCREEN in screen["text"]
    assert len(seconds) == 1 and seconds[0] < 2.0, seconds


async def test_without_a_reserve_a_screen_takes_the_next_free_slot_before_any_sms(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys
) -> None:
    bind = {"window": 1, "ussd_window_reserve": 0, "response_timeout": 2.0}
    async with network(key_prefix, redis, keys, "standard", **bind) as (sim, svc):
        await sim.call("/config", {"stall_sms": True})
        await queue_sms(svc, 20)  # the outbox always has the next SMS waiting for the slot
        await until(lambda: svc.pool.inflight() >= 1)
        screen = await Handset(sim).hop(text="*119#", wait=4)
        seconds = await resp_seconds(sim, 1)
    assert FIRST_SCREEN in screen["text"]
    # at most one response timeout (2 s) for the SMS holding the slot, then the screen
    assert len(seconds) == 1 and seconds[0] < 3.5, seconds


@pytest.mark.parametrize("status", [codec.ESME_RTHROTTLED, codec.ESME_RMSGQFUL])
async def test_a_screen_refused_for_now_is_submitted_again(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys, status: int
) -> None:
    async with network(key_prefix, redis, keys, "standard") as (sim, svc):
        await sim.call("/config", {"refuse_ussd": 1, "refuse_ussd_status": status})
        started = time.monotonic()
        screen = await Handset(sim).hop(text="*119#", wait=3)
        took = time.monotonic() - started
        stats = await sim.call("/stats")
    assert FIRST_SCREEN in screen["text"] and took < 2.0
    assert stats["submits"] == 2 and stats["settings"]["refuse_ussd"] == 0
    assert svc.ussd.stats["resubmits"] == 1 and svc.ussd.stats["replies"] == 1


async def test_a_screen_refused_again_and_again_is_dropped_after_three_submits(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="smpp.ussd"):
        async with network(key_prefix, redis, keys, "standard") as (sim, svc):
            await sim.call("/config", {"refuse_ussd": 10})
            answer = await sim.call("/ussd", {"from": PHONE, "text": "*119#", "wait": 3})
            stats = await sim.call("/stats")
            failed = svc.ussd.stats["reply_failed"]
    assert "no USSD screen" in answer["error"]
    assert stats["submits"] == 3 and stats["settings"]["refuse_ussd"] == 7  # 1 + 2 again
    assert stats["deliver_resp"] == {"0": 1}  # the hop itself was taken
    assert failed == 1
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert f"USSD screen to {mask_phone(PHONE)} dropped after 3 submit(s): RTHROTTLED" in logged
    assert PHONE not in logged


def throttled(svc: SmsService) -> int:
    return sum(s.stats["throttled"] for s in svc.pool.sessions)


def pause_left(svc: SmsService) -> float:
    return max(s.window.paused_until for s in svc.pool.sessions) - time.monotonic()


async def test_screens_taken_while_sms_are_throttled_do_not_cut_the_sms_backoff_short(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys
) -> None:
    # Every SMS is answered RTHROTTLED while screens are accepted: the SMS pause must keep
    # doubling (0.2, 0.4, 0.8, 1.6 s...), not fall back to 0.2 s after each accepted screen.
    async with network(key_prefix, redis, keys, "standard", throttle_pause=0.2) as (sim, svc):
        await sim.call("/config", {"throttle_sms": True})
        await queue_sms(svc, 3)
        await until(lambda: pause_left(svc) > 0.7)  # three throttled answers in a row
        handset = Handset(sim)
        assert FIRST_SCREEN in await handset.dial()
        await handset.send("1")  # two screens accepted meanwhile
        seen = throttled(svc)
        await until(lambda: throttled(svc) > seen)  # the next SMS answer: throttled again
        left = pause_left(svc)
    assert left > 1.0, f"the SMS pause fell back to {left:.2f} s"
