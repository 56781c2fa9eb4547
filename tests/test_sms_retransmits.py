"""The SMSC sends a deliver_sm again (the same PDU, its sequence number included: our
deliver_sm_resp was lost or late): it is answered ROK and not handled again, so an
answer never moves the conversation twice. A user's own repeat is a new deliver_sm
with a new sequence number, and it is answered as ever.

Real TCP: the development SMSC process re-sends the PDU (`POST /inject` with
`"repeat": true`, or the same bytes twice in one write); the SMS channel in this test's
process; the test's Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import prometheus_client as prom
import pytest
import redis.asyncio as aioredis

from smpp import codec
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_smpp_support import (  # noqa: F401
    Sim,
    deliver_answers,
    sim_fixture,
    smpp_overrides,
    sms_channel,
)
from tests.ussd_harness import PHONE, last6, load_registry

YES_NO = "Balas YA atau TIDAK"
NIK = "6 digit terakhir NIK"
NOT_SIX = "Harus 6 angka"


def retransmits() -> float:
    return prom.REGISTRY.get_sample_value("vaksin_smpp_retransmits_total") or 0.0


class Texting:
    """PHONE texting 1199 through the simulator, counting the deliver_sm it sends."""

    def __init__(self, sim: Sim) -> None:
        self.sim, self.pdus, self.seen = sim, 0, 0

    async def inbox(self) -> list[str]:
        return (await self.sim.call(f"/messages?to={PHONE}"))["messages"]

    async def send(self, text: str) -> list[str]:
        """Send `text` (a new deliver_sm per part) and return the replies it brought."""
        answer = await self.sim.call("/inject", {"from": PHONE, "text": text})
        return await self.replies(answer["parts"])

    async def again(self) -> None:
        """The SMSC sends the phone's last SMS again, byte for byte."""
        answer = await self.sim.call("/inject", {"from": PHONE, "repeat": True})
        self.pdus += answer["parts"]
        assert await deliver_answers(self.sim, self.pdus) == {"0": self.pdus}

    async def replies(self, parts: int) -> list[str]:
        self.pdus += parts
        assert await deliver_answers(self.sim, self.pdus) == {"0": self.pdus}
        for _ in range(200):
            messages = await self.inbox()
            if len(messages) > self.seen:
                break
            await asyncio.sleep(0.05)
        new, self.seen = messages[self.seen :], len(messages)
        return new


@pytest.fixture
async def texting(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> AsyncIterator[Texting]:
    await load_registry(redis, keys)
    await sim.call("/config", {"receipts": False})  # only the phone's own deliver_sm
    async with sms_channel(make_test_config(key_prefix, **smpp_overrides(sim))):
        yield Texting(sim)


async def test_a_resent_deliver_sm_is_answered_once_and_a_real_repeat_still_counts(
    texting: Texting,
) -> None:
    before = retransmits()
    assert [YES_NO in t for t in await texting.send("VAKSIN")] == [True]
    await texting.again()  # the same VAKSIN PDU: no second first screen
    assert [NIK in t for t in await texting.send("Ya")] == [True]  # the conversation moved once
    await texting.again()  # the same "Ya" PDU: not an answer to the NIK question
    # The user really types "Ya" again: a new deliver_sm, a new sequence number, answered.
    assert [NOT_SIX in t for t in await texting.send("Ya")] == [True]
    [confirm] = await texting.send(last6(1))
    assert "Balas 1 untuk" in confirm  # one wrong answer so far: the NIK check goes on
    assert len(await texting.inbox()) == 4
    assert retransmits() - before == 2


async def test_a_long_sms_sent_again_part_by_part_is_answered_once(texting: Texting) -> None:
    await texting.send("VAKSIN")
    [wrong] = await texting.send("ya, saya perawat di puskesmas " * 6)  # two parts
    assert YES_NO in wrong  # not a yes or no: the question again
    await texting.again()  # both parts again, each under its own sequence number
    assert [NIK in t for t in await texting.send("Ya")] == [True]
    assert len(await texting.inbox()) == 3


async def test_a_copy_arriving_while_the_first_is_handled_waits_for_it(
    texting: Texting, sim: Sim
) -> None:
    """Our answer was late, not lost: the copy comes while the original is still in the
    dialogue. It is answered once the original is, ROK, and nothing is sent twice."""
    pdu = codec.build_submit_sm(
        0x7000_0001, source=PHONE, source_ton=1, source_npi=1, destination="1199",
        short_message=b"VAKSIN", command_id=codec.DELIVER_SM,
    )  # fmt: skip
    await sim.call("/raw", {"hex": (pdu + pdu).hex()})  # one write: both in one read
    texting.pdus = 2
    [first] = await texting.replies(0)
    assert YES_NO in first
    assert [NIK in t for t in await texting.send("Ya")] == [True]
    assert len(await texting.inbox()) == 2
