"""Random walks through the whole dialogue: whatever a phone sends, no hop fails.

Hundreds of sessions on the shipped menus (memory stores), each a seeded random mix of
the menus' own answers, the right and wrong NIK digits, buttons that name no screen,
retransmits, hang-ups, SMS and text no menu expects ("²", Arabic-Indic and full-width
digits, emoji, NUL, 300 characters). A hop that fails answers "busy" and logs an error;
neither may happen. The walk is seeded, so a failure repeats.
"""

from __future__ import annotations

import logging
import random

from tests.dialogue_harness import Dialogue, Handset, sms
from tests.test_dialogue_flow import dialogue_fixture  # noqa: F401 (the fixture `dialogue`)
from tests.ussd_harness import HOUSEHOLD, PHONE, last6

BUSY = "sibuk"  # the busy screen: what a hop that failed answers
CHOICES = ["1", "1", "1", "2", "2", "3", "4", "0", "98"]
ODD = ["", " ", "²", "①", "١", "１", "00", "99", "-1", "1.", " 1 ", "x" * 300, "😀", "\x00",
       "*", "#", "1*2", "ya", "TIDAK", "VAKSIN", "cek", "BATAL", "٣٣٣٣٣٣", "9" * 40]  # fmt: skip
KEYS = ["main.1", "main.²", "worker_confirm.1", "hw_confirm.yes", "x", "", "a.b.c"]
# (phone, index of its health worker): listed, a shared household phone, unlisted.
PHONES = [(PHONE, 1), (HOUSEHOLD, 2), ("6281300000001", 1001), ("6289999999999", 7)]


async def walk(handset: Handset, worker: int, rng: random.Random) -> None:
    await handset.dial()
    for _ in range(rng.randint(1, 30)):
        roll = rng.random()
        if roll < 0.1:
            reply = await handset.pick(rng.choice(KEYS))
        elif roll < 0.15:
            reply = await handset.resend_last()
        else:
            text = last6(worker) if roll < 0.25 else rng.choice(CHOICES if roll < 0.7 else ODD)
            reply = await handset.send(text)
        assert BUSY not in reply.text, (handset.session_id, handset.last)
        if reply.end:
            return


async def test_random_walks_never_fail_a_hop(dialogue: Dialogue, caplog) -> None:
    rng = random.Random(2021)
    for n in range(400):
        msisdn, worker = rng.choice(PHONES)
        handset = Handset(dialogue.engine, msisdn, f"walk-{n}", numbered=rng.random() < 0.5)
        await walk(handset, worker, rng)
        if rng.random() < 0.3:
            await handset.hang_up()
        if rng.random() < 0.2:
            reply = await sms(dialogue.engine, rng.choice([*ODD, "VAKSIN", "YA"]), msisdn)
            assert BUSY not in reply.text
        if rng.random() < 0.1:
            dialogue.clock.advance(rng.choice([60, 3600, 86400]))
    errors = [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[:3]
