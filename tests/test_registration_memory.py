"""The Registry on memory stores, as the dialogue's unit tests use it (no Redis)."""

from __future__ import annotations

import pytest

from core.config import Config
from registration.memory import memory_registry
from registration.models import BookingOutcome, VerifyOutcome
from tests.registry_backends import FakeClock
from tests.ussd_harness import PHONE, default_phones, facility_lines, last6, nik, worker_lines


async def test_the_dialogue_test_data_loads_into_memory(config: Config) -> None:
    registry = memory_registry(config, clock=FakeClock())
    await registry.warm_up()
    assert (await registry.import_facilities(facility_lines())).rows_bad == 0
    workers = await registry.import_health_workers(worker_lines(default_phones()))
    assert (workers.rows_ok, workers.rows_bad) == (len(default_phones()), 0)
    verified = await registry.verify(PHONE, last6(1))
    assert verified.outcome is VerifyOutcome.OK and verified.worker
    assert verified.worker.full_name == "Siti Nurhaliza Putri 1"
    choices = [f.facility_id for f in await registry.facility_choices(nik(1))]
    assert choices[0] == "F001" and "F900" not in choices and len(choices) == 14
    await registry.record_screening(
        nik(1), {g.group_id: False for g in registry.screening_groups()}
    )
    slot = (await registry.available_slots("F001"))[0]
    result = await registry.book(nik(1), "F001", slot.day, slot.session_id)
    assert result.outcome is BookingOutcome.BOOKED and result.ticket
    assert registry.ticket_png(result.ticket).startswith(b"\x89PNG")
    assert await registry.repair() == 0  # nothing is ever half done in memory
    with pytest.raises(LookupError, match="memory"):
        _ = registry.fast
    await registry.aclose()
