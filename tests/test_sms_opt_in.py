"""BERHENTI/STOP and MULAI/START over the real SMS path (simulator -> SMPP -> service).

STOP used to be final (MULAI, START, VAKSIN left the phone opted out) and was confirmed
every time, in both languages at once with the English half lacking how to register.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tests.conftest import make_test_config
from tests.keys import AllKeys
from tests.test_smpp_support import Sim, sim_fixture, smpp_overrides, sms_channel  # noqa: F401
from tests.test_sms_journey import Phone
from tests.ussd_harness import PHONE, load_registry
from ussd_server.context import AppContext


@pytest.fixture
async def service(
    sim: Sim, redis: aioredis.Redis, keys: AllKeys, key_prefix: str
) -> AsyncIterator[AppContext]:
    await load_registry(redis, keys)
    async with sms_channel(make_test_config(key_prefix, **smpp_overrides(sim))) as (_, ctx):
        yield ctx


async def test_stop_is_confirmed_once_and_mulai_undoes_it(
    service: AppContext, sim: Sim, redis: aioredis.Redis, keys: AllKeys
) -> None:
    phone = Phone(sim, PHONE)
    [left] = await phone.send("STOP")
    assert "tidak akan menerima" in left and "MULAI" in left and "You will" not in left
    assert await redis.sismember(keys.sms_optouts(), PHONE)
    # Already opted out: no second confirmation. Messages of one sender are handled in
    # order, so the help reply to "halo" comes after anything "stop" would have got.
    await phone.send("stop", replies=0)
    await phone.send("BERHENTI", replies=0)
    [helped] = await phone.send("halo")
    assert "kirim VAKSIN untuk daftar" in helped
    [back] = await phone.send("Mulai")
    assert "akan menerima SMS informasi PEDULICOVID lagi" in back and "BERHENTI" in back
    assert not await redis.sismember(keys.sms_optouts(), PHONE)
    # Not opted out: START again is no opt-in to confirm (and help is rate limited).
    await phone.send("START", replies=0)
    [question] = await phone.send("VAKSIN")
    assert "Balas YA atau TIDAK" in question


async def test_the_confirmations_are_in_the_phones_language(
    service: AppContext, sim: Sim, redis: aioredis.Redis, keys: AllKeys
) -> None:
    await service.engine.context.store.set_language(PHONE, "en")
    phone = Phone(sim, PHONE)
    [left] = await phone.send("BERHENTI")
    assert left.startswith("PEDULICOVID: You will get no more") and "VACCINE" in left
    assert "Anda" not in left and "START" in left
    [back] = await phone.send("start")
    assert "You will get PEDULICOVID information SMS again" in back
    assert not await redis.sismember(keys.sms_optouts(), PHONE)
