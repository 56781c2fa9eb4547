"""Typed settings of the SMS channel: `[smpp]`, `[sms]`, `[blast]` and `[smsc_sim]`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.config import Config, ConfigError
from smpp.ussd_variants import VARIANTS

CHANNELS = frozenset({"sms", "ussd"})


@dataclass(frozen=True)
class BindFields:
    """What one SMPP bind needs, as `[smpp]` and each `[[smpp.connections]]` table give it."""

    host: str
    port: int
    system_id: str
    system_type: str
    # "transceiver" (one connection) or "transmitter_receiver" (a pair).
    bind_mode: str
    window: int
    response_timeout: float
    # Messages per second for the SMSC account (system_id at host:port), shared by every
    # bind and process sending to it; 0 = no limit.
    rate: float
    enquire_link_interval: float
    reconnect_min: float
    reconnect_max: float
    # How long to stop submitting after RTHROTTLED/RMSGQFUL (doubles while it repeats).
    throttle_pause: float
    # What the bind carries: "sms" (blasts, replies, ticket SMS go out on it) and/or
    # "ussd" (USSD hops arriving on it are answered on it).
    channels: tuple[str, ...]
    # How the network speaks USSD on this bind (a table in smpp.ussd_variants).
    ussd_variant: str
    # The service code of the hops after the first (the first hop carries the dialled
    # string); also the reply's sender when a deliver_sm has no destination_addr.
    ussd_service_code: str
    # Longest USSD screen on this bind, in GSM-7 septets.
    ussd_max_screen_chars: int

    def __post_init__(self) -> None:
        channels = tuple(self.channels)
        if not channels or not CHANNELS.issuperset(channels):
            raise ValueError(f"channels {list(channels)}: name one or both of sms, ussd")
        if self.ussd_variant not in VARIANTS:
            known = ", ".join(VARIANTS)
            raise ValueError(f"ussd_variant {self.ussd_variant!r}: one of {known}")
        object.__setattr__(self, "channels", channels)  # a TOML list arrives as a list

    @property
    def carries_sms(self) -> bool:
        return "sms" in self.channels

    @property
    def carries_ussd(self) -> bool:
        return "ussd" in self.channels


@dataclass(frozen=True)
class BindSettings(BindFields):
    """One SMPP bind (or transmitter/receiver pair) to an SMSC, with its password resolved."""

    password: str


@dataclass(frozen=True)
class SmppSettings(BindFields):
    """`[smpp]`: the default bind (the password never lives in the file) and the channel."""

    enabled: bool
    password_file: str
    # data_coding 0: "gsm7" (unpacked septets) or "latin1" (some SMSCs).
    data_coding_default: str
    # Long MT messages: "udh" (8-bit reference), "sar" (TLVs) or "payload" (message_payload).
    long_message: str
    # Message ids in submit_sm_resp / receipts: "hex", "decimal" or "as_is".
    message_id_base: str
    receipt_id_base: str
    registered_delivery: int
    # Incomplete multipart MO sets are dropped after this many seconds.
    reassembly_timeout: float
    reassembly_max_sets: int
    reassembly_sets_per_sender: int
    connections: tuple[dict[str, Any], ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.reassembly_max_sets < 1 or self.reassembly_sets_per_sender < 1:
            raise ValueError("reassembly_max_sets and reassembly_sets_per_sender: at least 1")

    def binds(self, password: str) -> list[BindSettings]:
        """The binds to open: each `[[smpp.connections]]` table overrides these defaults."""
        base = {f.name: getattr(self, f.name) for f in dataclasses.fields(BindFields)}
        base["password"] = password
        tables = self.connections or ({},)
        binds = []
        for i, table in enumerate(tables):
            unknown = sorted(set(table) - set(base))
            if unknown:
                raise ConfigError(f"[[smpp.connections]] #{i + 1}: unknown setting(s) {unknown}")
            try:
                binds.append(BindSettings(**{**base, **table}))
            except ValueError as exc:
                raise ConfigError(f"[[smpp.connections]] #{i + 1}: {exc}") from exc
        _one_rate_per_account(binds)
        return binds


def _one_rate_per_account(binds: list[BindSettings]) -> None:
    """The contract gives an account one rate: binds to it must not disagree."""
    rates: dict[tuple[str, int, str], float] = {}
    for i, bind in enumerate(binds):
        account = (bind.host, bind.port, bind.system_id)
        if rates.setdefault(account, bind.rate) != bind.rate:
            raise ConfigError(
                f"[[smpp.connections]] #{i + 1}: rate {bind.rate:g} differs from "
                f"{rates[account]:g} for the same SMSC account ({bind.system_id} at "
                f"{bind.host}:{bind.port}); the rate is the account's, one for all its binds"
            )


@dataclass(frozen=True)
class SmsSettings:
    service_number: str
    # Replies to MO messages come from the service number ("number") or the sender id.
    reply_from: str
    service_number_ton: int
    service_number_npi: int
    # At most one help reply (unknown text) per sender per this many seconds.
    help_reply_interval_seconds: int
    outbox_group: str
    # Sent (acknowledged) outbox SMS are kept this long, then trimmed from the stream.
    outbox_retention_seconds: int
    # Temporary failures of an outbox SMS are retried up to this many times.
    max_attempts: int


@dataclass(frozen=True)
class BlastSettings:
    sender_id: str
    sender_ton: int
    sender_npi: int
    keyword: str
    short_code: str
    # Quiet hours in local time (service.utc_offset_hours), "HH:MM-HH:MM"; "" = none.
    quiet_hours: str
    # Recipients taken from the queue per Redis round trip.
    batch_size: int
    # Temporary failures per recipient before it is marked failed.
    max_attempts: int
    # Message id -> recipient mapping lifetime (receipts arrive within this time).
    receipt_ttl_seconds: int
    # A batch's lease: a sender that stops renewing it (crashed) loses its batch to the
    # other senders after this many seconds.
    lease_seconds: float


def smpp_settings(config: Config) -> SmppSettings:
    return config.load("smpp", SmppSettings)


def smpp_password(config: Config) -> str:
    """The bind password: ``USSD_SMPP_PASSWORD`` or the file ``[smpp] password_file`` names.

    Required: there is no built-in password (`make run` hands the development SMSC's
    own to the server it starts)."""
    return config.secret("smpp", "password") or ""


def sms_settings(config: Config) -> SmsSettings:
    return config.load("sms", SmsSettings)


def blast_settings(config: Config) -> BlastSettings:
    return config.load("blast", BlastSettings)
