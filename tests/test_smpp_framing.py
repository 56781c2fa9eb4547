"""Session-level PDUs from the SMSC. A command_length the SMSC got wrong: the bytes after
it read as a header with a plausible length but no command id; the bind resets at once
instead of stalling. An alert_notification, which has no response."""

from __future__ import annotations

import asyncio
import logging
import struct

import pytest
import redis.asyncio as aioredis

from smpp import codec
from smpp.service import SmsService
from tests.keys import AllKeys
from tests.test_smpp_support import Sim, service_fixture, sim_fixture  # noqa: F401
from tests.ussd_harness import PHONE, load_registry


def deliver_sm(sequence: int, text: bytes, tlvs: bytes = b"") -> bytes:
    return codec.build_submit_sm(
        sequence, source=PHONE, source_ton=1, source_npi=1, destination="1199",
        registered_delivery=0, short_message=text, tlvs=tlvs, command_id=codec.DELIVER_SM,
    )  # fmt: skip


async def vaksin_is_answered(sim: Sim) -> bool:
    await sim.call("/inject", {"from": PHONE, "to": "1199", "text": "VAKSIN"})
    for _ in range(200):
        messages = (await sim.call(f"/messages?to={PHONE}"))["messages"]
        if any("Balas YA atau TIDAK" in m for m in messages):
            return True
        await asyncio.sleep(0.05)
    return False


def test_a_header_with_no_smpp_command_id_is_no_pdu() -> None:
    """00 00 FF from inside a PDU, then the next header: 65,280 octets of 'PDU' to wait for."""
    lost = b"\x00\x00\xff" + deliver_sm(3, b"BANTUAN")
    with pytest.raises(codec.FramingError, match="command_id"):
        codec.split_frames(bytearray(lost + b"\x00" * 13))
    for known in (codec.DELIVER_SM, codec.GENERIC_NACK, 0x00000102, 0x00010201):
        buffer = bytearray(codec.HEADER.pack(16, known, 0, 1))
        assert [f.command_id for f in codec.split_frames(buffer)] == [known]


async def test_a_deliver_sm_three_octets_too_short_resets_the_bind_and_texting_goes_on(
    sim: Sim,
    service: SmsService,
    redis: aioredis.Redis,
    keys: AllKeys,
) -> None:
    await load_registry(redis, keys)
    # A vendor TLV whose value ends 00 00 FF; the length says 3 octets less.
    good = deliver_sm(1, b"BANTUAN", codec.tlv(0x1401, b"\x00\x00\xff"))
    lying = struct.pack(">L", len(good) - 3) + good[4:]
    await sim.call("/raw", {"hex": (lying + deliver_sm(2, b"BANTUAN")).hex()})
    for _ in range(200):  # reset at once, bound again (not after the enquire_link check)
        if service.pool.connects >= 2 and service.pool.connected:
            break
        await asyncio.sleep(0.05)
    assert service.pool.connects >= 2 and service.pool.connected
    assert await vaksin_is_answered(sim)


async def test_an_alert_notification_gets_no_answer(
    sim: Sim, service: SmsService, caplog: pytest.LogCaptureFixture
) -> None:
    """alert_notification has no response (SMPP 3.4, 4.12): it got a generic_nack."""
    body = b"\x01\x01" + PHONE.encode() + b"\x00\x01\x01" + b"6281200000001\x00"
    alert_notification = 0x00000102
    alert = codec.HEADER.pack(16 + len(body), alert_notification, 0, 803) + body
    with caplog.at_level(logging.WARNING):
        await sim.call("/raw", {"hex": alert.hex()})
        assert await vaksin_is_answered(sim)  # after it, on the same connection
    stats = await sim.call("/stats")
    assert f"0x{codec.GENERIC_NACK:08x}" not in stats["responses"], stats["responses"]
    assert not [r for r in caplog.records if "0x00000102" in r.getMessage()]
