"""The SMPP connection against the simulator process, over real TCP."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from core.config import load_config
from smpp import codec
from smpp.pool import SmppPool
from smpp.session import BindRejected, SmppSession
from smpp.settings import BindSettings, smpp_settings
from tests.test_smpp_support import Sim, sim_fixture  # noqa: F401  (fixture)


def bind(sim: Sim, **kw: object) -> BindSettings:
    """config.toml's bind settings, pointed at the simulator, with ``kw`` changed."""
    base = smpp_settings(load_config(environ={})).binds("devpass")[0]
    changes: dict[str, object] = {
        "port": sim.smpp_port,
        "response_timeout": 3.0,
        "throttle_pause": 0.05,
    }
    changes.update(kw)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def submit_to(dest: str, text: bytes = b"hi"):
    def build(seq: int) -> bytes:
        return codec.build_submit_sm(
            seq,
            source="PEDULICOVID",
            source_ton=5,
            source_npi=0,
            destination=dest,
            short_message=text,
        )

    return build


class Results:
    def __init__(self) -> None:
        self.items: list[tuple[object, int, str]] = []
        self.event = asyncio.Event()

    def __call__(self, token: object, status: int, message_id: str) -> None:
        self.items.append((token, status, message_id))
        self.event.set()

    async def wait_for(self, n: int, timeout: float = 10.0) -> None:
        async def loop() -> None:
            while len(self.items) < n:
                self.event.clear()
                await self.event.wait()

        await asyncio.wait_for(loop(), timeout)


class Delivered:
    """An on_deliver handler that keeps what arrives (answered ESME_ROK)."""

    def __init__(self) -> None:
        self.texts: list[bytes] = []

    async def __call__(self, sm: codec.ShortMessage, origin: BindSettings) -> int:
        self.texts.append(sm.short_message)
        return codec.ESME_ROK

    async def first(self, seconds: float = 5.0) -> list[bytes]:
        """What arrived, once something has (or after `seconds`)."""
        for _ in range(int(seconds / 0.05)):
            if self.texts:
                break
            await asyncio.sleep(0.05)
        return self.texts


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [
        ("vaksin", "wrong", codec.ESME_RINVPASWD),
        ("intruder", "devpass", codec.ESME_RBINDFAIL),
    ],
)
async def test_bind_with_wrong_credentials_is_rejected(
    sim: Sim, system_id: str, password: str, status: int
) -> None:
    session = SmppSession(
        bind(sim, system_id=system_id, password=password), codec.BIND_TRANSCEIVER, None
    )
    with pytest.raises(BindRejected) as info:
        await session.open()
    assert info.value.status == status
    assert (await sim.call("/stats"))["binds_rejected"] == 1


async def test_window_limits_outstanding_submits(sim: Sim) -> None:
    await sim.call("/config", {"latency": 0.5})
    session = SmppSession(bind(sim, window=3), codec.BIND_TRANSCEIVER, None)
    await session.open()
    results = Results()
    for i in range(3):
        await session.submit(submit_to(f"6281{i}"), i, results)
    assert session.inflight == 3
    fourth = asyncio.create_task(session.submit(submit_to("62819"), 3, results))
    await asyncio.sleep(0.2)
    assert not fourth.done() and session.inflight == 3  # waits for a free slot
    await results.wait_for(1)
    await asyncio.wait_for(fourth, 5)
    await results.wait_for(4)
    assert [s for _, s, _ in results.items] == [0, 0, 0, 0]
    assert len({m for _, _, m in results.items}) == 4
    await session.unbind()


async def test_rate_limit_keeps_under_the_smsc_maximum(sim: Sim) -> None:
    await sim.call("/config", {"max_rate": 40})
    session = SmppSession(bind(sim, rate=40), codec.BIND_TRANSCEIVER, None)
    await session.open()
    results = Results()
    for i in range(60):
        await session.submit(submit_to(f"62812{i:04d}"), i, results)
    await results.wait_for(60)
    assert all(status == 0 for _, status, _ in results.items)
    assert (await sim.call("/stats"))["throttled"] == 0
    await session.unbind()


async def test_without_a_limit_the_smsc_throttles_and_the_session_pauses(sim: Sim) -> None:
    await sim.call("/config", {"max_rate": 40})
    session = SmppSession(bind(sim, throttle_pause=0.5), codec.BIND_TRANSCEIVER, None)
    await session.open()
    results = Results()
    for i in range(60):
        await session.submit(submit_to(f"62812{i:04d}"), i, results)
    await results.wait_for(60)
    throttled = [t for t, s, _ in results.items if s == codec.ESME_RTHROTTLED]
    assert throttled and codec.is_temporary(codec.ESME_RTHROTTLED)
    assert session.stats["throttled"] == len(throttled)
    # After a throttle the session holds back new submits for the pause.
    assert session.window.paused_until > 0
    await session.unbind()


async def test_garbage_from_the_smsc_reconnects_and_sending_goes_on(sim: Sim) -> None:
    results = Results()
    pool = SmppPool([bind(sim, reconnect_min=0.05, reconnect_max=0.2)], None)
    pool.start()
    assert await pool.wait_ready(5)
    await pool.submit(submit_to("628121"), "a", results)
    await results.wait_for(1)
    # A header claiming a 4 GB PDU: nothing after it can be trusted.
    await sim.call("/raw", {"hex": "ffffffff00000004000000000000000141424344"})
    for _ in range(100):
        if pool.connects >= 2 and pool.connected:
            break
        await asyncio.sleep(0.05)
    assert pool.connects >= 2
    await pool.submit(submit_to("628122"), "b", results)
    await results.wait_for(2)
    assert results.items[-1][1] == 0
    await pool.stop()


async def test_malformed_and_unknown_pdus_are_answered_and_the_session_survives(sim: Sim) -> None:
    delivered = Delivered()
    session = SmppSession(bind(sim), codec.BIND_TRANSCEIVER, delivered)
    await session.open()
    bad_deliver = codec.HEADER.pack(20, codec.DELIVER_SM, 0, 77) + b"\x00\x01\x01\x36"
    unknown = codec.HEADER.pack(16, 0x00000003, 0, 78)  # query_sm: an ESME does not answer it
    await sim.call("/raw", {"hex": (bad_deliver + unknown).hex()})
    await sim.call("/inject", {"from": "6281234", "to": "1199", "text": "VAKSIN"})
    # The good one, after the bad ones, arrived.
    assert await delivered.first() == [b"VAKSIN"]
    stats = await sim.call("/stats")
    assert stats["deliver_resp"].get(str(codec.ESME_RX_P_APPN)) == 1
    assert stats["deliver_resp"].get("0") == 1
    assert not session.closed.is_set()
    results = Results()
    await session.submit(submit_to("628123"), "c", results)
    await results.wait_for(1)
    assert results.items[0][1] == 0
    await session.unbind()


async def test_dropped_connection_fails_outstanding_as_temporary(sim: Sim) -> None:
    await sim.call("/config", {"latency": 0.3, "drop_after": 2})
    session = SmppSession(bind(sim), codec.BIND_TRANSCEIVER, None)
    await session.open()
    results = Results()
    for i in range(4):
        await session.submit(submit_to(f"62812{i}"), i, results)
    await results.wait_for(4)
    statuses = sorted(s for _, s, _ in results.items)
    assert codec.LOCAL_DISCONNECTED in statuses
    assert all(s == 0 or codec.is_temporary(s) for s in statuses)
    assert session.closed.is_set()


async def test_silent_peer_times_out_submits_and_is_declared_dead(sim: Sim) -> None:
    session = SmppSession(
        bind(sim, response_timeout=0.5, enquire_link_interval=0.2), codec.BIND_TRANSCEIVER, None
    )
    await session.open()
    await sim.call("/config", {"latency": 3.0})  # from now on the SMSC answers nothing in time
    results = Results()
    await session.submit(submit_to("628124"), "late", results)
    await results.wait_for(1)
    assert results.items[0][1] == codec.LOCAL_TIMEOUT and codec.is_temporary(codec.LOCAL_TIMEOUT)
    await asyncio.wait_for(session.closed.wait(), 5)  # no enquire_link_resp: dead peer


async def test_transmitter_receiver_pair_sends_on_one_and_receives_on_the_other(sim: Sim) -> None:
    received = Delivered()
    pool = SmppPool([bind(sim, bind_mode="transmitter_receiver")], received)
    pool.start()
    assert await pool.wait_ready(5)
    for _ in range(100):
        if len(pool.sessions) == 2:
            break
        await asyncio.sleep(0.05)
    kinds = sorted(s.bind_command for s in pool.sessions)
    assert kinds == [codec.BIND_RECEIVER, codec.BIND_TRANSMITTER]
    results = Results()
    await pool.submit(submit_to("628125"), "x", results)
    await results.wait_for(1)
    await sim.call("/inject", {"from": "628125", "to": "1199", "text": "CEK"})
    assert await received.first() == [b"CEK"]
    await pool.stop()
    assert (await sim.call("/stats"))["binds"] == 0  # both unbound cleanly


async def test_several_binds_share_the_traffic(sim: Sim) -> None:
    pool = SmppPool([bind(sim), bind(sim)], None)
    pool.start()
    for _ in range(100):
        if len(pool.sessions) == 2:
            break
        await asyncio.sleep(0.05)
    results = Results()
    for i in range(10):
        await pool.submit(submit_to(f"62812{i}"), i, results)
    await results.wait_for(10)
    assert sorted(s.stats["submitted"] for s in pool.sessions) == [5, 5]
    await pool.stop()


async def test_enquire_link_and_unbind_from_the_smsc_are_answered(sim: Sim) -> None:
    pool = SmppPool([bind(sim, reconnect_min=0.05, reconnect_max=0.2)], None)
    pool.start()
    assert await pool.wait_ready(5)
    ping = codec.header_only(codec.ENQUIRE_LINK, 500)
    bye = codec.header_only(codec.UNBIND, 501)
    await sim.call("/raw", {"hex": ping.hex()})
    await sim.call("/raw", {"hex": bye.hex()})
    for _ in range(100):
        if pool.connects >= 2 and pool.connected:
            break
        await asyncio.sleep(0.05)
    responses = (await sim.call("/stats"))["responses"]
    assert responses[f"0x{codec.ENQUIRE_LINK_RESP:08x}"] == 1
    assert responses[f"0x{codec.UNBIND_RESP:08x}"] == 1
    assert pool.connects >= 2  # bound again after the SMSC's unbind
    await pool.stop()


async def test_pdus_an_smsc_sends_before_its_bind_resp_do_not_fail_the_bind(sim: Sim) -> None:
    """An enquire_link and an MO ahead of the bind_resp were read as the bind's answer:
    RBINDFAIL, and the bind retried for ever."""
    await sim.call("/config", {"early_pdus": True})
    delivered = Delivered()
    session = SmppSession(bind(sim), codec.BIND_TRANSCEIVER, delivered)
    await session.open()  # bound: the enquire_link answered, the MO kept for the session
    assert await delivered.first() == [b"EARLY"]
    stats = await sim.call("/stats")
    assert stats["responses"][f"0x{codec.ENQUIRE_LINK_RESP:08x}"] == 1
    assert stats["deliver_resp"] == {"0": 1} and stats["binds_rejected"] == 0
    results = Results()
    await session.submit(submit_to("628123"), "c", results)
    await results.wait_for(1)
    assert results.items[0][1] == 0
    await session.unbind()
