"""Verification of (phone, last 6 NIK digits): households, wrong digits, lockout.

Contract tests: each runs against the Redis stores and the memory stores.
"""

from __future__ import annotations

import prometheus_client

from core.config import Config
from registration.models import ScreeningOutcome, VerifyOutcome
from registration.service import Registry
from tests.conftest import make_test_config
from tests.registry_backends import Backend
from tests.test_registration_support import facilities_csv, load, nik, workers_csv

PHONE = "6281200000000"  # nik(0)'s


async def test_three_wrong_attempts_lock_the_phone(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    first = await registry.verify(PHONE, "000000")
    assert (first.outcome, first.attempts_left) == (VerifyOutcome.WRONG_DIGITS, 2)
    second = await registry.verify(PHONE, "111111")
    assert (second.outcome, second.attempts_left) == (VerifyOutcome.WRONG_DIGITS, 1)
    third = await registry.verify(PHONE, "222222")
    assert third.outcome is VerifyOutcome.LOCKED
    assert 3590 <= third.locked_seconds <= 3600
    # Locked: even the right digits are refused, with the time left.
    await backend.wait(1)
    locked = await registry.verify(PHONE, nik(0)[-6:])
    assert locked.outcome is VerifyOutcome.LOCKED and locked.worker is None
    assert 0 < locked.locked_seconds < 3600


async def household(registry: Registry) -> tuple[str, str]:
    """A mother and a father sharing the phone 6281233334444."""
    await registry.import_facilities(facilities_csv("PKM-01,Puskesmas Coblong,Kota Bandung,,100"))
    mother, father = nik(7, female=True), nik(8)
    await registry.import_health_workers(
        workers_csv(
            f"{mother},Siti Aminah,081233334444,Bidan,PKM-01",
            f"{father},Agus Salim,081233334444,Dokter,PKM-01",
        )
    )
    return mother, father


async def test_a_right_answer_does_not_clear_the_count_and_typos_do_not_count(
    backend: Backend,
) -> None:
    registry = await load(backend.registry, workers=1)
    phone, right = "081200000000", nik(0)[-6:]
    assert (await registry.verify(phone, "000000")).attempts_left == 2
    # Not six digits: clearly a typo, answered as wrong but not counted.
    for typo in ("12a45", "1234567", "١٢٣٤٥٦"):  # the last: Arabic-Indic digits
        result = await registry.verify(phone, typo)
        assert (result.outcome, result.attempts_left) == (VerifyOutcome.WRONG_DIGITS, 2)
    ok = await registry.verify(phone, " " + right[:3] + " " + right[3:])  # spaces are fine
    assert ok.outcome is VerifyOutcome.OK and ok.worker and ok.worker.nik == nik(0)
    # The right answer forgave nothing: two more wrong answers within the hour lock.
    assert (await registry.verify(phone, "111111")).attempts_left == 1
    assert (await registry.verify(phone, "222222")).outcome is VerifyOutcome.LOCKED


async def test_a_household_member_answering_right_does_not_hide_guesses_at_another(
    backend: Backend,
) -> None:
    """Two health workers on one phone: one's right answers between the guesses at the
    other's digits used to reset the count (8 wrong answers in a row, no lock)."""
    registry = backend.registry
    mother, father = await household(registry)
    phone = "6281233334444"
    lockouts = prometheus_client.REGISTRY.get_sample_value("vaksin_lockouts_total") or 0
    answers = []
    for guess in ("000001", "000002", "000003"):
        answers.append((await registry.verify(phone, mother[-6:])).outcome)
        answers.append((await registry.verify(phone, guess)).outcome)
    assert answers == ["ok", "wrong_digits", "ok", "wrong_digits", "ok", "locked"]
    # Locked: nobody on this phone is checked any more, even with the right digits.
    for who in (father, mother):
        locked = await registry.verify(phone, who[-6:])
        assert locked.outcome is VerifyOutcome.LOCKED and locked.worker is None
    # One phone locked once (the refusals after it lock nothing new).
    after = prometheus_client.REGISTRY.get_sample_value("vaksin_lockouts_total")
    assert after == lockouts + 1


async def test_household_sharing_one_phone(backend: Backend) -> None:
    registry = backend.registry
    mother, father = await household(registry)
    for who in (mother, father):
        result = await registry.verify("6281233334444", who[-6:])
        assert result.outcome is VerifyOutcome.OK and result.worker
        assert result.worker.nik == who
    statuses = await registry.status_by_phone("+62 812-3333-4444")
    assert [s.worker.nik for s in statuses] == sorted([mother, father])
    assert await registry.status_by_phone("0812 9999 0000") == []
    assert await registry.status_by_phone("not a phone") == []


async def test_unlisted_phone_is_not_counted(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    for _ in range(5):
        result = await registry.verify("6285799990000", "123456")
        assert result.outcome is VerifyOutcome.NOT_LISTED
    assert (await registry.verify("not a phone", "123456")).outcome is VerifyOutcome.NOT_LISTED


async def test_lock_and_wrong_answers_expire(backend: Backend, key_prefix: str) -> None:
    await load(backend.registry, workers=1)
    config: Config = make_test_config(key_prefix, **{"registration.lockout_seconds": 1})
    registry = backend.reconfigured(config)
    for digits in ("000000", "111111", "222222"):
        await registry.verify(PHONE, digits)
    assert (await registry.verify(PHONE, nik(0)[-6:])).outcome is VerifyOutcome.LOCKED
    await backend.wait(1.1)
    assert (await registry.verify(PHONE, nik(0)[-6:])).outcome is VerifyOutcome.OK
    # Wrong answers are forgotten after the window, too.
    assert (await registry.verify(PHONE, "000000")).attempts_left == 2
    await backend.wait(1.1)
    assert (await registry.verify(PHONE, "111111")).attempts_left == 2


async def test_only_wrong_answers_within_the_window_count(
    backend: Backend, key_prefix: str
) -> None:
    await load(backend.registry, workers=1)
    config: Config = make_test_config(key_prefix, **{"registration.lockout_seconds": 2})
    registry = backend.reconfigured(config)
    assert (await registry.verify(PHONE, "000000")).attempts_left == 2
    await backend.wait(1.2)
    assert (await registry.verify(PHONE, "111111")).attempts_left == 1
    await backend.wait(1.2)  # the first is now older than the window: two within it
    assert (await registry.verify(PHONE, "222222")).attempts_left == 1
    third = await registry.verify(PHONE, "333333")  # three within two seconds
    assert third.outcome is VerifyOutcome.LOCKED


async def test_status_after_verify_is_the_registrant_now(backend: Backend) -> None:
    registry = await load(backend.registry, workers=1)
    assert (await registry.verify(PHONE, nik(0)[-6:])).worker is not None
    status = await registry.status_by_nik(nik(0))  # the same hop: read along with verify
    assert status is not None and status.worker.full_name == "Pekerja 0"
    assert status.facility is not None and status.facility.facility_id == "PKM-01"
    assert status.screening is None and status.ticket is None and status.history == []
    await registry.verify(PHONE, nik(0)[-6:])
    await registry.record_screening(
        nik(0), {g.group_id: False for g in registry.screening_groups()}
    )
    status = await registry.status_by_nik(nik(0))  # the screening since is in
    assert status is not None and status.screening is not None
    assert status.screening.outcome is ScreeningOutcome.ELIGIBLE
    assert await registry.status_by_nik("3273011503859999") is None
    worker = await registry.worker(nik(0))
    assert worker is not None and worker.phone == PHONE and worker.profession == "Perawat"
    assert await registry.worker("3273011503859999") is None


async def test_one_answer_sent_twice_counts_once(backend: Backend) -> None:
    """The same answer to the same user action (a double tap, a retransmitted hop) is one
    try; another action, or other digits, is another try; the right digits still pass."""
    registry = await load(backend.registry, workers=1)
    for _ in range(3):
        wrong = await registry.verify(PHONE, "000000", attempt="ussd:3")
        assert (wrong.outcome, wrong.attempts_left) == (VerifyOutcome.WRONG_DIGITS, 2)
    other = await registry.verify(PHONE, "000001", attempt="ussd:3")
    assert other.attempts_left == 1
    right = await registry.verify(PHONE, nik(0)[-6:], attempt="ussd:3")
    assert right.outcome is VerifyOutcome.OK
    assert (await registry.verify(PHONE, "000000", attempt="ussd:4")).outcome is (
        VerifyOutcome.LOCKED
    )
