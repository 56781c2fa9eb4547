"""Check-in at the site through the operator API: a dose 2 before its due date is refused
with the date, whatever the site's tolerance (real HTTP, a running server, real Redis)."""

from __future__ import annotations

from datetime import date

import aiohttp

from registration.service import Registry
from tests.conftest import make_test_config
from tests.test_operator_api import TOKEN, load
from tests.ussd_harness import nik, running_server


async def check_in(http: aiohttp.ClientSession, server: str, payload: str) -> dict:
    body = {"payload": payload, "facility_id": "F001"}
    async with http.post(f"{server}/api/check-in", json=body, headers=TOKEN) as resp:
        assert resp.status == 200
        return await resp.json()


async def booked(registry: Registry) -> str:
    """Screened "no" throughout, booked on the first day offered: the QR payload."""
    answers = {group.group_id: False for group in registry.screening_groups()}
    assert (await registry.record_screening(nik(1), answers)).outcome == "eligible"
    slot = (await registry.available_slots("F001", nik=nik(1)))[0]
    result = await registry.book(nik(1), "F001", slot.day, slot.session_id)
    assert result.ticket is not None
    return result.ticket.payload


async def test_a_dose_2_scanned_before_its_due_date_is_too_early(key_prefix: str, redis) -> None:
    """A site letting tickets in 14 days either side checked a dose 2 in on the day of dose 1."""
    overrides = {"registration.check_in_tolerance_days": 14, "registration.closed_weekdays": []}
    config = make_test_config(key_prefix, **overrides)
    registry = Registry.from_config(config, redis)
    async with running_server(config) as server, aiohttp.ClientSession() as http:
        await load(http, server)
        dose1 = await check_in(http, server, await booked(registry))  # tomorrow's, today
        assert dose1["outcome"] == "valid"
        due = dose1["dose2_due"]  # today + 14: the last day of the booking window
        dose2 = await booked(registry)
        assert f".{date.fromisoformat(due):%Y%m%d}." in dose2  # booked for the due date
        early = await check_in(http, server, dose2)
        assert (early["outcome"], early["dose2_due"]) == ("too_early", due)
        assert early["ticket"]["state"] == "active"  # not checked in
        async with http.get(
            f"{server}/api/registrants", params={"nik": nik(1)}, headers=TOKEN
        ) as resp:
            [status] = (await resp.json())["registrants"]
        assert status["ticket"]["dose"] == 2 and status["ticket"]["state"] == "active"
    await registry.aclose()
