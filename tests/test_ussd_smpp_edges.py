"""USSD hops as some networks send them: the dialled string in destination_addr, a
6-character service_type, the answer in message_payload. Each gets its screen."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import redis.asyncio as aioredis

from smpp import codec
from tests.keys import AllKeys
from tests.test_smpp_support import Sim, deliver_answers
from tests.test_ussd_smpp import network
from tests.ussd_harness import PHONE

MENU = "1. Daftar vaksinasi"


def hop(
    sequence: int,
    text: bytes,
    tlvs: bytes,
    *,
    destination: str = "119",
    service_type: str = "USSD",
) -> bytes:
    """A USSD deliver_sm as a network sends it (standard variant), packed by hand: the
    parser takes fields longer than build_submit_sm would write."""
    body = (
        service_type.encode() + b"\x00" + bytes((1, 1)) + PHONE.encode() + b"\x00"
        + bytes((0, 0)) + destination.encode() + b"\x00"
        + bytes((0, 0, 0)) + b"\x00\x00"  # esm_class, protocol_id, priority; two times
        + bytes((0, 0, 0, 0, len(text))) + text + tlvs
    )  # fmt: skip
    return codec.HEADER.pack(16 + len(body), codec.DELIVER_SM, 0, sequence) + body


def data_sm(sequence: int, text: bytes, tlvs: bytes) -> bytes:
    """A USSD data_sm: no short_message at all, the text in message_payload."""
    body = (
        b"USSD\x00" + bytes((1, 1)) + PHONE.encode() + b"\x00" + bytes((0, 0)) + b"119\x00"
        + bytes((0, 0, 0)) + tlvs + codec.tlv(codec.TLV_MESSAGE_PAYLOAD, text)
    )  # fmt: skip
    return codec.HEADER.pack(16 + len(body), codec.DATA_SM, 0, sequence) + body


async def screens(sim: Sim, count: int, msisdn: str = PHONE) -> list[dict[str, Any]]:
    for _ in range(200):
        shown = (await sim.call(f"/ussd?msisdn={msisdn}"))["screens"]
        if len(shown) >= count:
            return shown
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(shown)} screens, waited for {count}: {shown}")


@pytest.mark.parametrize(
    ("destination", "service_type"),
    [("*119*3273010101900001#", "USSD"), ("119", "USSD12")],
    ids=["dialled_string_as_destination", "six_character_service_type"],
)
async def test_a_hop_with_fields_longer_than_a_submit_sm_takes_gets_its_screen(
    key_prefix: str,
    redis: aioredis.Redis,
    keys: AllKeys,
    caplog: pytest.LogCaptureFixture,
    destination: str,
    service_type: str,
) -> None:
    """The reply could not be built: a traceback and a temporary error per attempt, the
    SMSC retrying for ever, the subscriber never shown a screen."""
    dial = hop(
        501, b"*119#", codec.ussd_tlvs(1, 0x2A00), destination=destination,
        service_type=service_type,
    )  # fmt: skip
    async with network(key_prefix, redis, keys, "standard") as (sim, _):
        await sim.call("/raw", {"hex": dial.hex()})
        [screen] = await screens(sim, 1)
        assert MENU in screen["text"]
        assert await deliver_answers(sim, 1) == {"0": 1}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_hop_with_no_address_a_reply_could_carry_is_refused_for_good(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys, caplog: pytest.LogCaptureFixture
) -> None:
    dial = hop(502, b"*119#", codec.ussd_tlvs(1, 0x2B00), destination="", service_type="USSD")
    async with network(key_prefix, redis, keys, "standard", ussd_service_code="1" * 21) as (
        sim,
        _,
    ):
        await sim.call("/raw", {"hex": dial.hex()})
        assert await deliver_answers(sim, 1) == {str(codec.ESME_RX_P_APPN): 1}  # not retried
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    [warning] = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert PHONE not in warning and "*****" in warning


@pytest.mark.parametrize("pdu", ["deliver_sm", "data_sm"])
async def test_an_answer_in_message_payload_is_read(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys, pdu: str
) -> None:
    """An answer carried in message_payload with an empty short_message was read as
    empty: "Pilihan salah" for ever."""
    async with network(key_prefix, redis, keys, "standard") as (sim, _):
        await sim.call("/raw", {"hex": hop(503, b"*119#", codec.ussd_tlvs(1, 0x2C00)).hex()})
        [menu] = await screens(sim, 1)
        assert MENU in menu["text"]
        tlvs = codec.ussd_tlvs(codec.USSD_USSR_CONFIRM, 0x2C00)
        if pdu == "data_sm":
            answer = data_sm(504, b"1", tlvs)
        else:
            answer = hop(504, b"", tlvs + codec.tlv(codec.TLV_MESSAGE_PAYLOAD, b"1"))
        await sim.call("/raw", {"hex": answer.hex()})
        second = (await screens(sim, 2))[1]
    assert "tenaga kesehatan" in second["text"] and "Pilihan salah" not in second["text"]
