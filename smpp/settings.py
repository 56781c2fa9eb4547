"""Typed settings of the SMS channel: `[smpp]`, `[sms]`, `[blast]` and `[smsc_sim]`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from registration.config import Config

# The simulator's password; used only when the configured host is the local simulator.
DEV_PASSWORD = "devpass"


@dataclass
class BindFields:
    """What one SMPP bind needs, as `[smpp]` and each `[[smpp.connections]]` table give it."""

    host: str = "127.0.0.1"
    port: int = 2775
    system_id: str = "vaksin"
    system_type: str = ""
    # "transceiver" (one connection) or "transmitter_receiver" (a pair).
    bind_mode: str = "transceiver"
    window: int = 50
    response_timeout: float = 10.0
    # Messages per second through this bind (token bucket); 0 = no limit.
    rate: float = 0.0
    enquire_link_interval: float = 30.0
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    # How long to stop submitting after RTHROTTLED/RMSGQFUL (doubles while it repeats).
    throttle_pause: float = 1.0


@dataclass
class BindSettings(BindFields):
    """One SMPP bind (or transmitter/receiver pair) to an SMSC, with its password resolved."""

    password: str = ""


@dataclass
class SmppSettings(BindFields):
    """`[smpp]`: the default bind (the password never lives in the file) and the channel."""

    enabled: bool = False
    password_file: str = ""
    # data_coding 0: "gsm7" (unpacked septets) or "latin1" (some SMSCs).
    data_coding_default: str = "gsm7"
    # Long MT messages: "udh" (8-bit reference), "sar" (TLVs) or "payload" (message_payload).
    long_message: str = "udh"
    # Message ids in submit_sm_resp / receipts: "hex", "decimal" or "as_is".
    message_id_base: str = "as_is"
    receipt_id_base: str = "as_is"
    registered_delivery: int = 1
    # Incomplete multipart MO sets are dropped after this many seconds.
    reassembly_timeout: float = 120.0
    reassembly_max_sets: int = 10000
    connections: list[dict[str, Any]] = field(default_factory=list)

    def binds(self, password: str) -> list[BindSettings]:
        """The binds to open: each `[[smpp.connections]]` table overrides these defaults."""
        base = {f.name: getattr(self, f.name) for f in dataclasses.fields(BindFields)}
        base["password"] = password
        tables = self.connections or [{}]
        return [BindSettings(**{**base, **table}) for table in tables]


@dataclass
class SmsSettings:
    service_number: str = "1199"
    # Replies to MO messages come from the service number ("number") or the sender id.
    reply_from: str = "number"
    service_number_ton: int = 3
    service_number_npi: int = 0
    session_ttl_seconds: int = 86400
    # At most one help reply (unknown text) per sender per this many seconds.
    help_reply_interval_seconds: int = 600
    outbox_group: str = "sms-channel"
    # Temporary failures of an outbox SMS are retried up to this many times.
    max_attempts: int = 10


@dataclass
class BlastSettings:
    sender_id: str = "PEDULICOVID"
    sender_ton: int = 5
    sender_npi: int = 0
    keyword: str = "VAKSIN"
    short_code: str = "1199"
    # Quiet hours in local time (service.utc_offset_hours), "HH:MM-HH:MM"; "" = none.
    quiet_hours: str = ""
    # Recipients taken from the queue per Redis round trip.
    batch_size: int = 200
    # Temporary failures per recipient before it is marked failed.
    max_attempts: int = 10
    # Message id -> recipient mapping lifetime (receipts arrive within this time).
    receipt_ttl_seconds: int = 259200


@dataclass
class SimSettings:
    host: str = "127.0.0.1"
    port: int = 2775
    control_port: int = 2776
    system_id: str = "vaksin"
    password: str = DEV_PASSWORD
    receipts: bool = True
    receipt_delay: float = 0.2
    receipt_stat: str = "DELIVRD"
    throttle_every: int = 0
    max_rate: float = 0.0
    drop_after: int = 0
    latency: float = 0.0


def smpp_settings(config: Config) -> SmppSettings:
    return config.load("smpp", SmppSettings)


def smpp_password(config: Config, settings: SmppSettings) -> str:
    """The bind password: env/secret file; the simulator's dev default only for localhost."""
    secret = config.secret("smpp", "password", required=False)
    if secret:
        return secret
    if settings.host in ("127.0.0.1", "localhost"):
        return DEV_PASSWORD
    return config.secret("smpp", "password") or ""


def sms_settings(config: Config) -> SmsSettings:
    return config.load("sms", SmsSettings)


def blast_settings(config: Config) -> BlastSettings:
    return config.load("blast", BlastSettings)


def sim_settings(config: Config) -> SimSettings:
    return config.load("smsc_sim", SimSettings)
