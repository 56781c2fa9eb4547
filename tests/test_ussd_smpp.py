"""*119# over an SMPP bind, end to end: the simulator process plays the network and the
handset (deliver_sm with ussd_service_op), the SMS service's USSD edge hands each hop
to the dialogue, and the screens come back as submit_sm over real TCP."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from core.metrics_tally import flush_tallies
from smpp import codec
from smpp.service import SmsService
from smpp.ussd_variants import VARIANTS
from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_smpp_support import ROOT, Sim, smpp_overrides
from tests.test_ussd_smpp_codec import deliver
from tests.ussd_harness import PHONE, last6, load_registry, nik
from ussd_server.context import build_context

CODE = re.compile(r"Kode tiket: ([A-Z0-9]{6,})")


class Handset:
    """A phone on the simulated network: every call is one USSD hop over SMPP."""

    def __init__(self, sim: Sim, msisdn: str = PHONE) -> None:
        self.sim, self.msisdn = sim, msisdn

    async def hop(self, **body: Any) -> dict[str, Any]:
        answer = await self.sim.call("/ussd", {"from": self.msisdn, "wait": 5, **body})
        assert "error" not in answer, answer
        return answer

    async def dial(self, code: str = "*119#") -> str:
        return (await self.hop(text=code))["text"]

    async def send(self, text: str) -> str:
        screen = await self.hop(text=text)
        assert not screen["end"], screen["text"]
        return screen["text"]

    async def hang_up(self) -> None:
        await self.hop(abort=True)

    async def network_repeats_last_hop(self) -> str:
        return (await self.hop(repeat=True))["text"]

    async def screens(self) -> list[dict[str, Any]]:
        return (await self.sim.call(f"/ussd?msisdn={self.msisdn}"))["screens"]


@contextlib.asynccontextmanager
async def network(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys, variant: str, **bind: object
) -> AsyncIterator[tuple[Sim, SmsService]]:
    """The simulator speaking `variant`, and the SMS service bound to it with that variant."""
    await load_registry(redis, keys)
    sim = Sim.start("--ussd-variant", variant)
    settings = {"smpp.ussd_variant": variant, **{f"smpp.{k}": v for k, v in bind.items()}}
    config = make_test_config(key_prefix, **smpp_overrides(sim, **settings))
    ctx = build_context(config)
    svc = SmsService(config, ctx.redis, ctx.outbox, ctx.registry, ctx.engine)
    await svc.start()
    try:
        for _ in range(100):  # bound and able to answer (a USSD-only bind is not "ready")
            if svc.pool.sessions:
                break
            await asyncio.sleep(0.05)
        yield sim, svc
    finally:
        await svc.stop()
        await ctx.aclose()
        sim.stop()


async def reach_the_site(phone: Handset) -> str:
    """Dial, register, yes a health worker, the last 6 of the NIK: the site screen."""
    assert "1. Daftar vaksinasi" in await phone.dial()
    assert "tenaga kesehatan" in await phone.send("1")
    assert "6 digit terakhir NIK" in await phone.send("1")
    screen = await phone.send(last6(1))
    assert "Lokasi vaksin" in screen, screen
    return screen


async def register_until_confirm(phone: Handset) -> None:
    await reach_the_site(phone)
    screen = await phone.send("1")  # the site is right
    while re.match(r"\(\d+/\d+\)", screen):  # one screen per screening group
        screen = await phone.send("2")
    assert "Pilih jadwal" in screen, screen
    assert "Konfirmasi" in await phone.send("1")


def screen_count(screen: str) -> float:
    """Hops answered with ``screen`` so far in this process (vaksin_ussd_screen_seconds)."""
    flush_tallies()
    found = REGISTRY.get_sample_value("vaksin_ussd_screen_seconds_count", {"screen": screen})
    return found or 0.0


def hop_counts() -> dict[str, float]:
    """vaksin_ussd_hops_total of the SMPP edge by outcome, and its latency count, so far."""
    flush_tallies()
    sample = REGISTRY.get_sample_value
    counts = {
        o: sample("vaksin_ussd_hops_total", {"dialect": "smpp", "outcome": o}) or 0.0
        for o in ("continue", "end", "bad_request")
    }
    counts["timed"] = sample("vaksin_ussd_hop_seconds_count", {"dialect": "smpp"}) or 0.0
    return counts


@pytest.mark.parametrize("variant", ["standard", "mica", "vumi"])
async def test_whole_registration_over_an_smpp_ussd_bind(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys, variant: str
) -> None:
    booking_hops, hops = screen_count("done"), hop_counts()
    async with network(key_prefix, redis, keys, variant) as (sim, _):
        phone = Handset(sim)
        await register_until_confirm(phone)
        final = await phone.hop(text="1")
        assert final["end"] and CODE.search(final["text"]), final
        screens = await phone.screens()
    assert screen_count("done") == booking_hops + 1  # the per-screen time, as over HTTP
    now = hop_counts()  # the hop counter and hop time too, under dialect "smpp"
    moved = {outcome: now[outcome] - hops[outcome] for outcome in now}
    assert moved == {
        "continue": len(screens) - 1,
        "end": 1,
        "bad_request": 0,
        "timed": len(screens),
    }
    table = VARIANTS[variant]
    # Every screen fits a handset, asks with the continue op, and the last one ends.
    assert all(len(s["text"]) <= 160 for s in screens)
    assert [s["op"] for s in screens[:-1]] == [table.reply_continue] * (len(screens) - 1)
    assert screens[-1]["op"] == table.reply_end and screens[-1]["end"]
    # Each screen carries the network's own session reference back.
    field = "user_message_reference" if variant == "mica" else "its_session_info"
    references = {s[field] & table.session_mask for s in screens}
    assert len(references) == 1 and None not in references
    if table.end_bit:
        assert [s[field] & 1 for s in screens] == [0] * (len(screens) - 1) + [1]
    outbox = [fields for _, fields in await redis.xrange(keys.sms_outbox())]
    assert len(outbox) == 1 and CODE.search(final["text"]).group(1) in outbox[0]["text"]
    assert await redis.hgetall(keys.booking(nik(1))), "the booking is stored"


async def test_hanging_up_mid_registration_offers_to_continue_on_the_next_dial(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys
) -> None:
    async with network(key_prefix, redis, keys, "standard") as (sim, _):
        phone = Handset(sim)
        await reach_the_site(phone)
        shown = len(await phone.screens())
        await phone.hang_up()  # ussd_service_op 0x81 with the end bit
        await asyncio.sleep(0.3)
        assert len(await phone.screens()) == shown  # nothing is sent to a closed dialogue
        assert (await sim.call("/stats"))["deliver_resp"] == {"0": shown + 1}
        assert "Pendaftaran Anda belum selesai" in await phone.dial()
        assert "Lokasi vaksin" in await phone.send("1")  # continue where it stopped


async def test_a_repeated_dial_gets_the_same_screen_once(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys
) -> None:
    async with network(key_prefix, redis, keys, "standard") as (sim, _):
        phone = Handset(sim)
        first = await phone.dial()
        assert await phone.network_repeats_last_hop() == first
        assert "tenaga kesehatan" in await phone.send("1")  # one dialogue, one step on


async def test_a_repeated_numbered_hop_is_not_applied_twice(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys
) -> None:
    async with network(key_prefix, redis, keys, "sequenced") as (sim, _):
        phone = Handset(sim)
        site = await reach_the_site(phone)
        # The same hop number again: the same screen, not "123456" as a choice of site.
        assert await phone.network_repeats_last_hop() == site
        assert re.match(r"\(1/\d+\)", await phone.send("1"))  # on to the screening


async def test_malformed_ussd_pdus_are_refused_and_the_bind_lives_on(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys
) -> None:
    dial = b"*119#"
    wrong_size = deliver(dial, codec.tlv(codec.TLV_USSD_SERVICE_OP, b"\x01\x00"), sequence=901)
    no_session = deliver(dial, codec.ussd_tlvs(1), sequence=902)
    no_op = deliver(dial, codec.tlv(codec.TLV_ITS_SESSION_INFO, 0x1200, 2), sequence=903)
    past_end = deliver(dial, codec.ussd_tlvs(1, 0x1200), sequence=904)[:-1]  # a TLV cut short
    past_end = codec.HEADER.pack(len(past_end), codec.DELIVER_SM, 0, 904) + past_end[16:]
    foreigner = deliver(dial, codec.ussd_tlvs(1, 0x1200), "4479460000123", sequence=905)
    before = hop_counts()["bad_request"]
    async with network(key_prefix, redis, keys, "standard") as (sim, svc):
        raw = wrong_size + no_session + no_op + past_end + foreigner
        await sim.call("/raw", {"hex": raw.hex()})
        phone = Handset(sim)
        assert "1. Daftar vaksinasi" in await phone.dial()  # the bind is still there
        stats = await sim.call("/stats")
    assert stats["deliver_resp"] == {
        str(codec.ESME_RINVPARLEN): 1,
        str(codec.ESME_RMISSINGOPTPARAM): 2,
        str(codec.ESME_RX_P_APPN): 1,
        str(codec.ESME_RINVSRCADR): 1,
        "0": 1,
    }
    assert svc.ussd.stats["refused"] == 4
    assert hop_counts()["bad_request"] == before + 4  # on /metrics as bad requests


async def test_a_bind_that_carries_only_sms_refuses_ussd(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys
) -> None:
    async with network(key_prefix, redis, keys, "standard", channels=["sms"]) as (sim, _):
        answer = await sim.call("/ussd", {"from": PHONE, "text": "*119#", "wait": 1})
        assert "no USSD screen" in answer["error"]
        stats = await sim.call("/stats")
    assert stats["deliver_resp"] == {str(codec.ESME_RINVSERTYP): 1}


async def test_a_ussd_only_bind_answers_ussd_but_sends_no_sms(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys
) -> None:
    async with network(key_prefix, redis, keys, "sixdee", channels=["ussd"]) as (sim, svc):
        assert "1. Daftar vaksinasi" in await Handset(sim).dial()
        assert not svc.pool.connected  # no bind for blasts, replies or ticket SMS


async def test_ussd_inject_prints_the_screen(
    key_prefix: str, redis: aioredis.Redis, keys: AllKeys
) -> None:
    async with network(key_prefix, redis, keys, "standard") as (sim, _):
        outputs = []
        for args in (["--text", "*119#"], ["--text", "1"], ["--abort"]):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "ussd_server", "ussd-inject", "--control", sim.url, "--from", PHONE),
                *args,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await proc.communicate()
            assert proc.returncode == 0
            outputs.append(out.decode())
    dial, answer, hang_up = outputs
    assert f"> {PHONE}: *119#" in dial and "< 1. Daftar vaksinasi" in dial
    assert "tenaga kesehatan" in answer and "--text <your answer>" in answer
    assert "[dialogue closed]" in hang_up
