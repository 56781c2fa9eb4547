"""Blast campaigns end to end: Redis state, the SMS service, the simulator process."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from core.config import Config
from core.outbox import OutboundSms
from smpp import campaigns
from smpp.campaign_store import CampaignStore
from smpp.keys import SmsKeys
from smpp.service import SmsService
from smpp.settings import blast_settings
from tests.keys import AllKeys
from tests.test_smpp_support import (  # noqa: F401  (fixtures)
    Sim,
    seed_workers,
    service_fixture,
    sim_fixture,
    wait_progress,
)
from ussd_server.commands.sms import progress_bar

TEMPLATE = "Halo {first_name} (NIK {nik_masked}), Anda calon penerima Vaksin. Balas {keyword}."


async def run_campaign(
    svc: SmsService,
    name: str,
    filters: dict[str, list[str]] | None = None,
    only_unregistered: bool = False,
    timeout: float = 30,
) -> dict[str, Any]:
    await campaigns.create(svc.store, svc.blast, name, TEMPLATE, filters or {}, only_unregistered)
    await campaigns.transition(svc.store, name, "start")
    return await wait_progress(svc, name, lambda p: p["state"] == "done", timeout)


@pytest.mark.parametrize("sim_config", [{"drop_after": 90}, {"throttle_every": 7}])
async def test_each_recipient_gets_exactly_one_sms_through_drops_and_throttling(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys, sim_config: dict
) -> None:
    await sim.call("/config", sim_config)
    workers = await seed_workers(redis, keys, 400)
    p = await run_campaign(service, "jan12")
    assert (p["total"], p["submitted"], p["failed"], p["queued"]) == (400, 400, 0, 0)
    counts = await sim.call("/counts")
    assert {phone: counts.get(phone) for _, phone in workers} == {ph: 1 for _, ph in workers}
    stats = await sim.call("/stats")
    if "drop_after" in sim_config:
        assert stats["drops"] >= 4 and service.pool.connects >= 5
    else:
        assert stats["throttled"] > 0
    # Delivery receipts come back and update the campaign.
    p = await wait_progress(service, "jan12", lambda p: p["delivered"] == 400, timeout=20)
    assert p["delivered"] == 400


async def test_text_shows_first_name_and_masked_nik_only(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys
) -> None:
    [(nik, phone)] = await seed_workers(redis, keys, 1, start=7)
    await run_campaign(service, "one")
    messages = (await sim.call(f"/messages?to={phone}"))["messages"]
    assert messages == [
        "Halo Siti (NIK 3201************), Anda calon penerima Vaksin. Balas VAKSIN."
    ]
    # The last 6 digits are the identity check: none of them is in the SMS.
    assert nik[4:] not in messages[0].replace("*", "")


async def test_filters_and_only_unregistered_pick_the_recipients(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys
) -> None:
    bandung = await seed_workers(redis, keys, 10, regency="Bandung", facility="F1")
    await seed_workers(redis, keys, 10, regency="Bogor", facility="F2", start=100)
    await seed_workers(
        redis, keys, 5, regency="Bandung", profession="dokter", facility="F1", start=200
    )
    for nik, _ in bandung[:3]:
        await redis.hset(keys.booking(nik), mapping={"state": "active", "code": "X"})
    p = await run_campaign(
        service, "bdg", {"regency": ["bandung"], "profession": ["Bidan"]}, only_unregistered=True
    )
    assert p["submitted"] == 7
    counts = await sim.call("/counts")
    assert sorted(counts) == sorted(phone for _, phone in bandung[3:])


async def test_opt_out_by_sms_is_confirmed_and_honoured_by_later_blasts(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys
) -> None:
    workers = await seed_workers(redis, keys, 12)
    leaving = [phone for _, phone in workers[:3]]
    for phone, word in zip(leaving, ["BERHENTI", " stop! ", "Berhenti."], strict=True):
        await sim.call("/inject", {"from": phone, "to": "1199", "text": word})
    for _ in range(100):
        if await redis.scard(keys.sms_optouts()) == 3:
            break
        await asyncio.sleep(0.05)
    p = await run_campaign(service, "after-optout")
    assert p["submitted"] == 9 and p["opted_out"] == 3
    # Opted out before queueing: not in the total, so not in the done count either.
    assert progress_bar(p).startswith(f"[{'#' * 30}] 9/9 ")
    for phone in leaving:
        replies = (await sim.call(f"/messages?to={phone}"))["messages"]
        assert len(replies) == 1 and "tidak akan menerima" in replies[0]


async def test_pause_holds_the_blast_and_resume_finishes_it(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys
) -> None:
    await sim.call("/config", {"latency": 0.5})  # window 50: about 100 submits/s
    await seed_workers(redis, keys, 200)
    store = service.store
    await campaigns.create(store, service.blast, "slow", TEMPLATE, {}, False)
    await campaigns.transition(store, "slow", "start")
    await wait_progress(service, "slow", lambda p: p["submitted"] > 0)
    await campaigns.transition(store, "slow", "pause")
    # The runner sees the pause within 0.5 s; what it sent by then is answered 0.5 s later.
    await asyncio.sleep(1.3)
    held = await campaigns.progress(store, "slow")
    await asyncio.sleep(0.5)
    again = await campaigns.progress(store, "slow")
    assert held["submitted"] == again["submitted"] < 200 and again["queued"] > 0
    await campaigns.transition(store, "slow", "resume")
    p = await wait_progress(service, "slow", lambda p: p["state"] == "done")
    assert p["submitted"] == 200
    counts = await sim.call("/counts")
    assert len(counts) == 200 and set(counts.values()) == {1}


@pytest.mark.parametrize(
    "service",
    [{}, {"smpp.long_message": "sar"}, {"smpp.long_message": "payload"}],
    indirect=True,
    ids=["udh", "sar", "payload"],
)
async def test_outbox_ticket_sms_is_sent_from_the_sender_id_and_acknowledged(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys
) -> None:
    phone = "6281299990001"
    texts = [f"Tiket vaksin Anda: K7Q2MX9{i}. " + "Tunjukkan QR di faskes. " * 8 for i in (1, 2)]
    for i, text in enumerate(texts):
        assert await service.inbound.outbox.enqueue(OutboundSms(phone, text, "ticket", f"t:{i}"))
    again = OutboundSms(phone, texts[0], "ticket", "t:0")
    assert not await service.inbound.outbox.enqueue(again)
    for _ in range(100):
        try:
            pending = await redis.xpending(keys.sms_outbox(), "sms-channel")
        except ResponseError:  # NOGROUP: the channel's reader has not made its group yet
            await asyncio.sleep(0.05)
            continue
        if (
            pending["pending"] == 0
            and len((await sim.call(f"/messages?to={phone}"))["messages"]) == 2
        ):
            break
        await asyncio.sleep(0.05)
    inbox = await sim.call(f"/messages?to={phone}")
    # Two long messages to one number: distinct concatenation references, both whole.
    assert sorted(inbox["messages"]) == texts and set(inbox["senders"]) == {"PEDULICOVID"}
    parts = 1 if service.smpp.long_message == "payload" else 2
    assert (await sim.call("/counts"))[phone] == 2 * parts  # each sent once
    assert (await redis.xpending(keys.sms_outbox(), "sms-channel"))["pending"] == 0


@pytest.mark.parametrize(("stat", "counter"), [("EXPIRED", "expired"), ("UNDELIV", "failed")])
async def test_failed_and_expired_receipts_are_counted(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys, stat: str, counter: str
) -> None:
    await sim.call("/config", {"receipt_stat": stat})
    workers = await seed_workers(redis, keys, 20)
    await run_campaign(service, "r")
    p = await wait_progress(service, "r", lambda p: p[counter] == 20, timeout=20)
    assert p["delivered"] == 0 and p["submitted"] == 20
    # `blast status --watch`: failed receipts are of messages submitted, not more done.
    assert progress_bar(p).startswith(f"[{'#' * 30}] 20/20 ")
    state = await service.store.recipient_state("r", workers[0][0])
    assert state == ("x" if stat == "EXPIRED" else "f:UNDELIV")


@pytest.mark.parametrize("delay", [0.0, 0.6], ids=["fast", "slow"])
async def test_receipts_feed_pending_and_latency_percentiles(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys, delay: float
) -> None:
    await sim.call("/config", {"receipt_delay": delay})
    await seed_workers(redis, keys, 30)
    p = await run_campaign(service, "lat")
    assert p["pending"] == p["submitted"] - p["delivered"]
    p = await wait_progress(service, "lat", lambda p: p["delivered"] == 30, timeout=20)
    latency = p["receipt_seconds"]
    assert (p["pending"], latency["count"]) == (0, 30)
    # Percentiles are bucket upper bounds: never below what the receipts took.
    assert delay <= latency["p50"] <= latency["p90"] <= latency["p99"] < delay + 5


@pytest.mark.parametrize(
    ("template", "parts"),
    [
        ("Halo {first_name} [{nik_masked}] {{{keyword}}} ~ €5 ke {short_code}.", 1),
        ("Halo {first_name}, " + "vaksin aman dan halal. " * 9 + "Balas {keyword}.", 2),
        ("Halo {first_name} “{nik_masked}” – balas {keyword}.", 1),
    ],
    ids=["gsm-extension-and-braces", "two-parts", "ucs2"],
)
async def test_the_phone_gets_the_template_as_written(
    sim: Sim, service: SmsService, redis: aioredis.Redis, keys: AllKeys, template: str, parts: int
) -> None:
    workers = await seed_workers(redis, keys, 3, start=40)
    await campaigns.create(service.store, service.blast, "t", template, {}, False)
    await campaigns.transition(service.store, "t", "start")
    p = await wait_progress(service, "t", lambda p: p["delivered"] == 3)
    assert (p["submitted"], p["pending"], p["receipt_seconds"]["count"]) == (3, 0, 3)
    for nik, phone in workers:
        expected = template.format(
            first_name="Siti", nik_masked=nik[:4] + "*" * 12, keyword="VAKSIN", short_code="1199"
        )
        assert (await sim.call(f"/messages?to={phone}"))["messages"] == [expected]
        assert (await sim.call("/counts"))[phone] == parts


async def test_a_pause_answered_ok_is_never_overwritten_by_done(
    config: Config, redis: aioredis.Redis, key_prefix: str
) -> None:
    """A sender finding nothing left to send and an operator pausing, at the same time."""
    store = CampaignStore(redis, SmsKeys(key_prefix))
    outcomes = []
    for i in range(30):
        name = f"fin{i}"
        await campaigns.create(store, blast_settings(config), name, TEMPLATE, {}, False)
        await campaigns.transition(store, name, "start")
        await store.set_fields(name, materialized="1")  # nobody to send to: finished

        async def pause(name: str = name) -> bool:
            try:
                await campaigns.transition(store, name, "pause")
            except campaigns.CampaignError:
                return False
            return True

        paused, finished = await asyncio.gather(pause(), store.finish_if_sent(name))
        state = (await campaigns.progress(store, name))["state"]
        outcomes.append((paused, finished, state))
    # Exactly one of them wins, and the state says which.
    assert all((s == "paused") == p and (s == "done") == f for p, f, s in outcomes), outcomes
