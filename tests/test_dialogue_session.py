"""The session: its encoding, and the store contract, kept alike by Redis and memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest

from core.redis_client import connect_lean
from core.settings import redis_settings
from dialogue.keys import DialogueKeys
from dialogue.session import (
    SESSION_FORMAT,
    ResumeWrite,
    Session,
    SessionRef,
    SessionStore,
    decode,
    encode,
)
from dialogue.session_memory import MemorySessionStore
from dialogue.session_redis import RedisSessionStore
from tests.test_registration_support import FakeClock

PHONE = "6281200000001"
REF = SessionRef("json", "gw-session-1", PHONE)


def registering() -> Session:
    """A session half-way through a registration, every field set."""
    return Session(
        lang="en",
        screen="screening",
        page=2,
        stack=[("main", 0), ("nik", 0), ("screening", 0), ("screening", 1)],
        vars={"intent": "register", "nik": "3273010101900001", "name": "Siti N. P."},
        answers={"fever": False, "allergy": False},
        items=[["F001", "Puskesmas Coblong"], ["F002", "Klinik Sehat"]],
        last_hop=7,
        hops=8,
        reply="(3/5) Pregnant?\n1. Yes\n2. No",
        error="invalid",
        finished=False,
        holds_resume=True,
    )


def test_encoding_round_trip_keeps_every_field() -> None:
    session = registering()
    assert decode(encode(session)) == session
    assert decode(encode(session).decode()) == session  # Redis clients may hand back str
    assert decode(encode(Session(lang="id"))) == Session(lang="id")


@pytest.mark.parametrize(
    "raw",
    [
        None,
        b"",
        b"{not json",
        b'"a string"',
        # What the first release stored (format 1): a dict with one-letter keys.
        orjson.dumps({"s": "main", "p": 0, "k": [], "v": {}, "l": "id", "h": 1, "n": 1, "i": []}),
        orjson.dumps([SESSION_FORMAT + 1, *orjson.loads(encode(registering()))[1:]]),
        orjson.dumps([SESSION_FORMAT, "id", "main"]),  # cut short
        orjson.dumps([*orjson.loads(encode(registering()))[:4], [["main"]], *[None] * 9]),
    ],
)
def test_an_unreadable_or_older_blob_counts_as_absent(raw: bytes | None) -> None:
    assert decode(raw) is None


@pytest.fixture(params=["memory", "redis"])
async def store(request, config, redis, key_prefix) -> AsyncIterator[SessionStore]:
    """The same contract on both stores (Redis: the test's own key prefix, deleted after)."""
    if request.param == "memory":
        yield MemorySessionStore(FakeClock())
        return
    lean = connect_lean(redis_settings(config))
    try:
        yield RedisSessionStore(lean, DialogueKeys(key_prefix))
    finally:
        await lean.aclose()


async def test_a_saved_session_is_read_back_with_the_language(store: SessionStore) -> None:
    assert await store.load(REF, with_resume=True) == (None, None, None)
    await store.save(REF, registering(), 300)
    await store.set_language(PHONE, "en")
    stored = await store.load(REF, with_resume=True)
    assert stored.session == registering() and stored.language == "en"
    assert stored.resume is None
    other = SessionRef("json", "gw-session-2", PHONE)  # another dial: no session, same phone
    assert (await store.load(other, with_resume=False)).language == "en"


async def test_the_language_rides_the_session_write(store: SessionStore) -> None:
    """A keyword's language (or menu 4's) is stored with the session, in the same write,
    with the resume snapshot too; other dials of the phone read it."""
    await store.save(REF, registering(), 300, ResumeWrite.SNAPSHOT, 3600, language="en")
    stored = await store.load(SessionRef("json", "gw-session-2", PHONE), with_resume=True)
    assert stored.language == "en" and stored.resume == registering()
    await store.save(REF, registering(), 300, language="id")
    await store.save(REF, registering(), 300)  # no language: the stored one stays
    assert (await store.load(REF, with_resume=False)).language == "id"


async def test_the_resume_snapshot_is_written_kept_and_cleared(store: SessionStore) -> None:
    session = registering()
    await store.save(REF, session, 300, ResumeWrite.SNAPSHOT, 3600)
    next_dial = SessionRef("json", "gw-session-2", PHONE)
    assert (await store.load(next_dial, with_resume=True)).resume == session
    assert (await store.load(next_dial, with_resume=False)).resume is None  # not asked
    assert await store.resume(PHONE) == session  # alone: answering the offer to resume
    await store.save(next_dial, Session(lang="id"), 300)  # KEEP leaves it
    assert (await store.load(next_dial, with_resume=True)).resume == session
    await store.save(next_dial, Session(lang="id", finished=True), 300, ResumeWrite.CLEAR)
    assert (await store.load(next_dial, with_resume=True)).resume is None
    await store.save(REF, session, 300, ResumeWrite.SNAPSHOT, 3600)
    await store.discard_resume(PHONE)
    assert (await store.load(REF, with_resume=True)).resume is None
    assert await store.resume(PHONE) is None


async def test_a_closed_session_is_gone_but_its_snapshot_stays(store: SessionStore) -> None:
    await store.save(REF, registering(), 300, ResumeWrite.SNAPSHOT, 3600)
    await store.drop(REF)
    stored = await store.load(REF, with_resume=True)
    assert stored.session is None and stored.resume == registering()


async def test_a_ticket_resend_is_claimed_once_per_interval(store: SessionStore) -> None:
    assert await store.claim_resend(PHONE, "ABCD2345", 600)
    assert not await store.claim_resend(PHONE, "ABCD2345", 600)
    assert await store.claim_resend("6281200000002", "WXYZ6789", 600)


async def test_redis_keeps_sessions_for_their_ttl(config, redis, keys) -> None:
    lean = connect_lean(redis_settings(config))
    try:
        store = RedisSessionStore(lean, keys)
        await store.save(REF, registering(), 300, ResumeWrite.SNAPSHOT, 3600)
        assert 290 < await redis.ttl(keys.dialogue_session("json", "gw-session-1", PHONE)) <= 300
        assert 3590 < await redis.ttl(keys.dialogue_resume(PHONE)) <= 3600
        await store.claim_resend(PHONE, "ABCD2345", 600)
        assert 590 < await redis.ttl(keys.ticket_resend_guard(PHONE)) <= 600
    finally:
        await lean.aclose()


async def test_memory_sessions_expire_on_the_given_clock() -> None:
    clock = FakeClock()
    store = MemorySessionStore(clock)
    await store.save(REF, registering(), 300, ResumeWrite.SNAPSHOT, 3600)
    assert await store.claim_resend(PHONE, "ABCD2345", 600)
    clock.advance(301)
    stored = await store.load(REF, with_resume=True)
    assert stored.session is None and stored.resume == registering()
    assert not await store.claim_resend(PHONE, "ABCD2345", 600)
    clock.advance(3300)
    assert (await store.load(REF, with_resume=True)).resume is None
    assert await store.claim_resend(PHONE, "ABCD2345", 600)
