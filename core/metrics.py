"""Prometheus metrics: every metric the service exports, named in one place.

Counters end in ``_total`` (Prometheus naming). HTTP workers and SMS workers of
one host share ``[metrics] multiproc_dir``: prometheus-client's multiprocess mode
keeps each process's values in a file there and ``/metrics`` sums them. The mode
is chosen when prometheus-client is first imported, so ``python -m ussd_server``
calls :func:`core.metrics_setup.prepare` before importing anything else;
without it (tests in one process) the values live in the process.

The hot path pays for a metric with a cached child lookup and one increment; the
per-hop ones are counted in plain ints and flushed in bulk (core.metrics_tally).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import prometheus_client as prom
from prometheus_client import multiprocess

from core.metrics_setup import MULTIPROC_ENV
from core.metrics_tally import LatencyTally, Tally, TallyFamily, flush_tallies

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_RECEIPT = (1, 5, 15, 30, 60, 120, 300, 900, 3600, 6 * 3600, 24 * 3600)

USSD_HOPS = prom.Counter(
    "vaksin_ussd_hops_total",
    "USSD hops answered, by dialect and outcome (continue, end, busy, bad_request, refused)",
    ["dialect", "outcome"],
)
USSD_HOP_SECONDS = prom.Histogram(
    "vaksin_ussd_hop_seconds", "Time to answer one USSD hop", ["dialect"], buckets=_LATENCY
)
# Which step is slow: the booking's, the NIK check's... ("notice": expired, unknown code).
USSD_SCREEN_SECONDS = TallyFamily(
    prom.Histogram(
        "vaksin_ussd_screen_seconds",
        "Time to answer one USSD hop, by the screen it answered with",
        ["screen"],
        buckets=_LATENCY,
    ),
    LatencyTally,
)


class UssdHopMeter:
    """One USSD edge's hops on the series above (HTTP gateways by dialect, the SMPP USSD
    binds as "smpp"): counted and timed as tallies, flushed with the others."""

    OUTCOMES = ("continue", "end", "busy", "bad_request", "refused")

    def __init__(self, dialect: str) -> None:
        self._counts = {o: Tally(USSD_HOPS.labels(dialect, o)) for o in self.OUTCOMES}
        self._latency = LatencyTally(USSD_HOP_SECONDS.labels(dialect))

    def count(self, outcome: str) -> None:
        """A hop that never reached the dialogue (bad_request, refused)."""
        self._counts[outcome].inc()

    def answered(self, outcome: str, screen: str, seconds: float) -> None:
        """A hop the dialogue answered: its outcome, the screen it showed, its time."""
        self._counts[outcome].inc()
        self._latency.observe(seconds)
        USSD_SCREEN_SECONDS.labels(screen).observe(seconds)


SESSIONS = TallyFamily(
    prom.Counter(
        "vaksin_dialogue_sessions_total",
        "Dialogue sessions by channel and event (started, completed, abandoned, resumed)",
        ["channel", "event"],
    )
)
VERIFICATIONS = TallyFamily(
    prom.Counter(
        "vaksin_nik_checks_total",
        "Last-6-of-NIK checks by outcome (ok, wrong_digits, locked, not_listed)",
        ["outcome"],
    )
)
LOCKOUTS = prom.Counter("vaksin_lockouts_total", "Phones locked after too many wrong NIK digits")
SCREENINGS = TallyFamily(
    prom.Counter("vaksin_screenings_total", "Screenings recorded, by outcome", ["outcome"])
)
BOOKINGS = TallyFamily(
    prom.Counter(
        "vaksin_bookings_total",
        "Booking attempts by outcome (booked = a registration) and channel",
        ["outcome", "channel"],
    )
)
SMPP_SUBMITS = prom.Counter(
    "vaksin_smpp_submits_total", "submit_sm answered, by command status", ["status"]
)
SMPP_THROTTLED = prom.Counter(
    "vaksin_smpp_throttled_total", "Times the SMSC asked us to slow down (RTHROTTLED, RMSGQFUL)"
)
SMPP_WINDOW = prom.Gauge(
    "vaksin_smpp_window_in_use",
    "submit_sm outstanding (sent, not answered) on the binds",
    multiprocess_mode="livesum",
)
SMPP_RECONNECTS = prom.Counter("vaksin_smpp_reconnects_total", "SMPP binds (re)established")
SMPP_RETRANSMITS = prom.Counter(
    "vaksin_smpp_retransmits_total",
    "deliver_sm the SMSC sent again on a connection (same sequence number and bytes) after "
    "the first was answered ROK: answered ROK, not handled again",
)
RECEIPTS = prom.Counter("vaksin_sms_receipts_total", "Delivery receipts by final state", ["state"])
SMS_NOTICES = prom.Counter(
    "vaksin_sms_notices_total",
    "deliver_sm taken and not answered: intermediate notifications, SME acknowledgements",
    ["kind"],
)
SMS_DEFERRED = prom.Counter(
    "vaksin_sms_deferred_total",
    "deliver_sm answered with a temporary error because Redis failed (the SMSC sends them "
    "again), by kind: mo (incoming SMS), receipt",
    ["kind"],
)
RECEIPT_SECONDS = prom.Histogram(
    "vaksin_sms_receipt_seconds", "From submit_sm to its delivery receipt", buckets=_RECEIPT
)
WHATSAPP_MESSAGES = prom.Counter(
    "vaksin_whatsapp_messages_total",
    "WhatsApp messages from phones, by outcome (answered, duplicate, not_text, help_suppressed, "
    "reaction)",
    ["outcome"],
)
WHATSAPP_SENDS = prom.Counter(
    "vaksin_whatsapp_sends_total",
    "WhatsApp sends to the Graph API, by outcome (sent, retry, failed, window_closed)",
    ["outcome"],
)
WHATSAPP_QUEUED_SECONDS = prom.Histogram(
    "vaksin_whatsapp_queued_seconds",
    "From queueing a WhatsApp message to the Graph API accepting it",
    buckets=(*_LATENCY, 5.0, 15.0, 60.0, 300.0),
)
WHATSAPP_STATUSES = prom.Counter(
    "vaksin_whatsapp_statuses_total",
    "WhatsApp delivery statuses recorded (sent, delivered, read, failed)",
    ["status"],
)
HTTP_CONNECTIONS_ENDED = prom.Counter(
    "vaksin_http_connections_ended_total",
    "Main-port connections the server ended because the client held them, by reason: "
    "refused (past max_connections), no_request, head_timeout, body_timeout, unread_reply; "
    "and client_left (the client went while its request was read)",
    ["reason"],
)
REDIS_ERRORS = prom.Counter(
    "vaksin_redis_errors_total", "Redis commands that failed (connection or reply)", ["client"]
)
REDIS_WAITS = prom.Counter(
    "vaksin_redis_waits_total",
    "WAITs for replicas ([redis] wait_replicas) by outcome: ok, too_few (fewer in time), "
    "reconnected (the writes' connection was replaced meanwhile)",
    ["outcome"],
)
REDIS_WAIT_SECONDS = prom.Histogram(
    "vaksin_redis_wait_seconds", "Time one WAIT for replicas took", buckets=_LATENCY
)


def multiprocess_dir() -> str:
    return os.environ.get(MULTIPROC_ENV, "")


_PID = re.compile(r"_(\d+)\.db$")


def forget_dead_processes() -> int:
    """Remove the value files of processes that are gone (when `serve` starts)."""
    directory = multiprocess_dir()
    removed = 0
    for path in Path(directory).glob("*.db") if directory else []:
        match = _PID.search(path.name)
        if match and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exposition() -> bytes:
    """Every process's values in the Prometheus text format."""
    flush_tallies()  # this process's pending hop counts; other workers flush each second
    if multiprocess_dir():
        registry = prom.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return prom.generate_latest(registry)
    return prom.generate_latest()
