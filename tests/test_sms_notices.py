"""What an SMSC sends that nobody typed: intermediate notifications, SME acknowledgements,
receipts spelled out. None of it may reach the dialogue as an MO."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from smpp import codec
from tests.keys import AllKeys
from tests.test_smpp_support import Sim, deliver_answers, sim_fixture  # noqa: F401
from tests.test_sms_journey import Phone, phone  # noqa: F401
from tests.ussd_harness import PHONE

NOTICE = (
    b"id:m42 sub:001 dlvrd:000 submit date:2612031200 done date:2612031200 stat:ENROUTE err:000"
)


def deliver_sm(sequence: int, esm_class: int, text: bytes, source: str = PHONE) -> bytes:
    return codec.build_submit_sm(
        sequence, source=source, source_ton=1, source_npi=1, destination="1199",
        esm_class=esm_class, registered_delivery=0, short_message=text,
        command_id=codec.DELIVER_SM,
    )  # fmt: skip


@pytest.mark.parametrize(
    "esm_class",
    [0x20, 0x08, 0x10, 0x20 | 0x40],
    ids=["intermediate", "sme_ack", "user_ack", "udhi"],
)
async def test_a_notification_for_a_reply_is_taken_and_never_answered(
    phone: Phone,  # noqa: F811
    sim: Sim,
    redis: aioredis.Redis,
    keys: AllKeys,
    esm_class: int,
) -> None:
    """An SMSC that sent an intermediate notification (esm_class 0x20) for each reply made
    one VAKSIN an endless SMS loop: each notice was an MO, each got an answer."""
    [first] = await phone.send("VAKSIN")
    assert "Balas YA atau TIDAK" in first
    await sim.call("/raw", {"hex": deliver_sm(801, esm_class, NOTICE).hex()})
    assert await deliver_answers(sim, 2) == {"0": 2}  # taken (ROK), so the SMSC does not resend
    [ask] = await phone.send("Ya")  # the dialogue did not see the notice as an answer
    assert "6 digit terakhir NIK" in ask
    messages, _ = await phone.inbox()
    assert len(messages) == 2  # one reply per message the phone sent, nothing more
    assert await redis.hget(keys.sms_stats(), "mo") == "2"


async def test_a_receipt_that_spells_delivered_out_counts_delivered(
    phone: Phone,  # noqa: F811
    sim: Sim,
    redis: aioredis.Redis,
    keys: AllKeys,
) -> None:
    """stat:DELIVERED (no TLVs) was looked up as "DELIVER": the SMS counted failed."""
    await sim.call("/config", {"receipts": False})  # the receipt comes from this test
    await phone.send("VAKSIN")
    found = [k async for k in redis.scan_iter(match=keys.sms_message_id("*"))]
    assert len(found) == 1
    message_id = found[0].split("{m:", 1)[1].split("}", 1)[0]
    text = f"id:{message_id} sub:001 dlvrd:001 stat:DELIVERED err:000 text:".encode()
    await sim.call("/raw", {"hex": deliver_sm(802, 0x04, text).hex()})
    for _ in range(200):
        stats = await redis.hgetall(keys.sms_stats())
        if "outbox_delivered" in stats or "outbox_failed" in stats:
            break
        await asyncio.sleep(0.05)
    assert stats.get("outbox_delivered") == "1" and "outbox_failed" not in stats
