"""GET /metrics: Prometheus text, counts that move by exactly what happened, a token."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import prometheus_client as prom
from prometheus_client.parser import text_string_to_metric_families

from core import metrics_tally
from core.metrics_tally import LatencyTally, Tally, flush_tallies
from tests.conftest import TEST_REDIS_URL, make_test_config
from tests.redis_server import free_port
from tests.ussd_harness import PHONE, AtPhone, last6, load_registry, running_server

ROOT = Path(__file__).resolve().parent.parent


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(http: aiohttp.ClientSession, base: str, **kw) -> dict:
    async with http.get(f"{base}/metrics", **kw) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/plain")
        return samples(await resp.text())


async def test_a_journey_moves_the_counts_by_exactly_what_happened(config, redis, keys) -> None:
    from tests.test_ussd_journey import register

    await load_registry(redis, keys)
    async with running_server(config) as base, aiohttp.ClientSession() as http:
        before = await scrape(http, base)
        phone = AtPhone(http, base, PHONE, "metrics-1")
        assert "Kode tiket" in await register(phone, last6(1))  # 12 hops, the last one ends
        dropped = AtPhone(http, base, "6281300000001", "metrics-2")  # hangs up after 2 hops
        await dropped.dial()
        await dropped.send("1")
        event = {"sessionId": "metrics-2", "status": "Incomplete", "phoneNumber": "+6281300000001"}
        async with http.post(f"{base}/ussd/africastalking/events", data=event):
            pass
        json_type = {"Content-Type": "application/json"}
        async with http.post(f"{base}/ussd/json", data=b"[[[", headers=json_type):
            pass
        after = await scrape(http, base)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    hops = "vaksin_ussd_hops_total"
    assert moved(hops, dialect="africastalking", outcome="continue") == 11 + 2
    assert moved(hops, dialect="africastalking", outcome="end") == 1
    assert moved(hops, dialect="json", outcome="bad_request") == 1
    assert moved("vaksin_ussd_hop_seconds_count", dialect="africastalking") == 14
    # By the screen each hop answered with: the ticket once, every hop somewhere.
    assert moved("vaksin_ussd_screen_seconds_count", screen="done") == 1
    by_screen = [k for k in after if k[0] == "vaksin_ussd_screen_seconds_count"]
    assert sum(after[k] - before.get(k, 0.0) for k in by_screen) == 14
    sessions = "vaksin_dialogue_sessions_total"
    assert moved(sessions, channel="ussd", event="started") == 2
    assert moved(sessions, channel="ussd", event="completed") == 1
    assert moved(sessions, channel="ussd", event="abandoned") == 1
    assert moved("vaksin_nik_checks_total", outcome="ok") == 1
    assert moved("vaksin_screenings_total", outcome="eligible") == 1
    assert moved("vaksin_bookings_total", outcome="booked", channel="ussd") == 1
    assert value(after, "vaksin_sms_outbox_depth") >= 1  # the ticket SMS, waiting


async def test_a_configured_token_is_required(key_prefix: str) -> None:
    config = make_test_config(key_prefix, environ={"USSD_METRICS_TOKEN": "scrape-token-0123"})
    async with running_server(config) as base, aiohttp.ClientSession() as http:
        async with http.get(f"{base}/metrics") as resp:
            assert resp.status == 401
        await scrape(http, base, headers={"Authorization": "Bearer scrape-token-0123"})


async def test_two_workers_are_summed(key_prefix: str, redis, keys, tmp_path: Path) -> None:
    await load_registry(redis, keys)
    port = free_port()
    env = {
        **os.environ,
        "USSD_REDIS_URL": TEST_REDIS_URL,
        "USSD_REDIS_KEY_PREFIX": key_prefix,
        "USSD_TICKETS_SIGNING_KEY": "k",
        "USSD_OPERATOR_API_TOKEN": "metrics-test-operator-token",
        "USSD_CONSOLE_SESSION_KEY": "metrics-test-console-key",
        "USSD_USSD_ALLOW_UNAUTHENTICATED": "true",
        "USSD_METRICS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    argv = [sys.executable, "-m", "ussd_server", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    await scrape(http, base)
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
            for n in range(20):  # new connections: the kernel spreads them over the workers
                async with aiohttp.ClientSession() as one:
                    await AtPhone(one, base, PHONE, f"mp-{n}").dial()
            # Each worker hands its hop counts over once a second (core.metrics_tally).
            for _ in range(50):
                after = await scrape(http, base)
                hops = value(after, "vaksin_ussd_hops_total", dialect="africastalking",
                             outcome="continue")  # fmt: skip
                if hops >= 20:
                    break
                await asyncio.sleep(0.1)
    finally:
        server.terminate()
        server.wait(15)
    assert hops == 20
    assert len(list((tmp_path / "metrics").glob("counter_*.db"))) >= 2  # both workers wrote


async def test_hop_counts_kept_in_ints_reach_prometheus_as_if_counted_one_by_one(
    monkeypatch,
) -> None:
    monkeypatch.setattr(metrics_tally, "FLUSH_SECONDS", 3600)  # flushed by hand below
    registry = prom.CollectorRegistry()
    direct = prom.Histogram("direct_seconds", "d", buckets=(0.001, 0.01, 0.1), registry=registry)
    bulk = prom.Histogram("bulk_seconds", "b", buckets=(0.001, 0.01, 0.1), registry=registry)
    hops = prom.Counter("bulk_hops", "h", registry=registry)
    latency, count = LatencyTally(bulk), Tally(hops)
    for seconds in (0.0005, 0.001, 0.002, 0.01, 0.05, 0.5, 3.0, 0.001):
        direct.observe(seconds)
        latency.observe(seconds)
        count.inc()
    assert registry.get_sample_value("bulk_seconds_count") == 0  # pending until a flush
    flush_tallies()
    flush_tallies()  # nothing pending: adds nothing
    for suffix, labels in [("_count", {}), ("_sum", {})] + [
        ("_bucket", {"le": le}) for le in ("0.001", "0.01", "0.1", "+Inf")
    ]:
        want = registry.get_sample_value("direct_seconds" + suffix, labels)
        assert registry.get_sample_value("bulk_seconds" + suffix, labels) == want, suffix
    assert registry.get_sample_value("bulk_hops_total") == 8


async def test_counts_reach_prometheus_without_a_scrape(monkeypatch) -> None:
    """Another worker's /metrics reads this process's values from its file: they must get
    there on their own, soon after they were counted."""
    monkeypatch.setattr(metrics_tally, "FLUSH_SECONDS", 0.05)
    registry = prom.CollectorRegistry()
    count = Tally(prom.Counter("timer_hops", "h", registry=registry))
    for _ in range(3):
        count.inc()
    assert registry.get_sample_value("timer_hops_total") == 0
    for _ in range(100):
        if registry.get_sample_value("timer_hops_total") == 3:
            break
        await asyncio.sleep(0.02)
    assert registry.get_sample_value("timer_hops_total") == 3


def test_a_cli_command_leaves_no_metrics_files(key_prefix: str, tmp_path: Path) -> None:
    """Only the scraped processes (serve, sms-worker...) write the multiprocess files:
    each one-off command used to leave its own, read by every later scrape."""
    directory = tmp_path / "metrics"
    env = {
        **os.environ,
        "USSD_REDIS_URL": TEST_REDIS_URL,
        "USSD_REDIS_KEY_PREFIX": key_prefix,
        "USSD_METRICS_MULTIPROC_DIR": str(directory),
        "USSD_TICKETS_SIGNING_KEY": "k",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),  # even when the environment says so
    }
    directory.mkdir()
    argv = [sys.executable, "-m", "ussd_server", "status", "--nik", "3273010101900001"]
    run = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, timeout=60)
    assert run.returncode in (0, 1), run.stderr.decode()
    assert b"Traceback" not in run.stderr
    assert list(directory.glob("*.db")) == []


def test_the_long_running_commands_still_write_where_metrics_reads() -> None:
    from core.metrics_setup import is_scraped

    for words in (["serve"], ["sms-worker"], ["blast", "run", "june"], ["dev"]):
        assert is_scraped(words), words
    for words in (["status"], ["blast", "start", "june"], ["import", "workers"], []):
        assert not is_scraped(words), words
