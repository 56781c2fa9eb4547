"""Typed settings of the SMS channel: `[smpp]`, `[sms]`, `[blast]` and `[smsc_sim]`."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from core.config import Config, ConfigError, build_settings
from core.config_values import DAY_SECONDS, YEAR_SECONDS, setting
from dialogue.settings import USSD_SEPTETS_MAX, USSD_SEPTETS_MIN
from smpp.ussd_variants import VARIANTS

CHANNELS = frozenset({"sms", "ussd"})
USSD_SEPTETS = {"low": USSD_SEPTETS_MIN, "high": USSD_SEPTETS_MAX}
TON = {"high": 6}  # SMPP 5.2.5
NPI = {"high": 18}  # SMPP 5.2.6
ID_BASES = ("as_is", "hex", "decimal")
_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
# A message refused with a temporary error goes again after attempts x RETRY_DELAY
# seconds, at most MAX_RETRY_DELAY (outbox SMS, blast recipients and their refused
# parts alike): an SMSC's passing fault then does not use up every attempt in a second.
RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 30.0


@dataclass(frozen=True)
class BindFields:
    """What one SMPP bind needs, as `[smpp]` and each `[[smpp.connections]]` table give it."""

    host: str
    port: int = setting(low=1, high=65535)
    system_id: str
    system_type: str
    # "transceiver" (one connection) or "transmitter_receiver" (a pair).
    bind_mode: str = setting(choices=("transceiver", "transmitter_receiver"))
    window: int = setting(low=1, high=1000)
    # Extra slots above `window` only USSD screens may use: SMS never fills them.
    ussd_window_reserve: int = setting(high=100)
    response_timeout: float = setting(low=0.1, high=3600)
    # Messages per second for the SMSC account (system_id at host:port), shared by every
    # bind and process sending to it; 0 = no limit.
    rate: float
    enquire_link_interval: float = setting(low=1, high=DAY_SECONDS)
    reconnect_min: float = setting(low=0.01, high=3600)
    reconnect_max: float = setting(low=0.01, high=3600)
    # How long to stop submitting after RTHROTTLED/RMSGQFUL (doubles while it repeats).
    throttle_pause: float = setting(low=0.01, high=30)
    # A deliver_sm the SMSC sends again on the connection (same sequence number, same
    # bytes: our answer was lost or late) within this many seconds is answered ROK and
    # not handled again (smpp.deliveries); 0 = off.
    retransmit_window: float = setting(high=DAY_SECONDS)
    # What the bind carries: "sms" (blasts, replies, ticket SMS go out on it) and/or
    # "ussd" (USSD hops arriving on it are answered on it).
    channels: tuple[str, ...] = setting(choices=sorted(CHANNELS))
    # How the network speaks USSD on this bind (a table in smpp.ussd_variants).
    ussd_variant: str
    # The service code of the hops after the first (the first hop carries the dialled
    # string); also the reply's sender when a deliver_sm has no destination_addr.
    ussd_service_code: str
    # Longest USSD screen on this bind, in GSM-7 septets.
    ussd_max_screen_chars: int = setting(**USSD_SEPTETS)

    def __post_init__(self) -> None:
        if not self.channels:
            raise ValueError("channels is empty: name one or both of sms, ussd")
        if self.ussd_variant not in VARIANTS:
            known = ", ".join(VARIANTS)
            raise ValueError(f"ussd_variant {self.ussd_variant!r}: one of {known}")
        if self.reconnect_max < self.reconnect_min:
            raise ValueError("reconnect_max must not be below reconnect_min")

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
    data_coding_default: str = setting(choices=("gsm7", "latin1"))
    # Long MT messages: "udh" (8-bit reference), "sar" (TLVs) or "payload" (message_payload).
    long_message: str = setting(choices=("udh", "sar", "payload"))
    # Message ids in submit_sm_resp / receipts: "hex", "decimal" or "as_is".
    message_id_base: str = setting(choices=ID_BASES)
    receipt_id_base: str = setting(choices=ID_BASES)
    registered_delivery: int = setting(high=2)
    # Incomplete multipart MO sets are dropped after this many seconds.
    reassembly_timeout: float = setting(low=1, high=DAY_SECONDS)
    reassembly_max_sets: int = setting(low=1)
    reassembly_sets_per_sender: int = setting(low=1)
    connections: tuple[dict[str, Any], ...]

    def binds(self, password: str) -> list[BindSettings]:
        """The binds to open: each `[[smpp.connections]]` table overrides these defaults."""
        base = {f.name: getattr(self, f.name) for f in dataclasses.fields(BindFields)}
        base["password"] = password
        tables = self.connections or ({},)
        binds = []
        for i, table in enumerate(tables):
            # the same checks as [smpp] itself: unknown names, types, limits
            where = f"smpp.connections#{i + 1}"
            binds.append(build_settings(BindSettings, {**base, **table}, where))
        _one_rate_per_account(binds)
        return binds


def _one_rate_per_account(binds: list[BindSettings]) -> None:
    """The contract gives an account one rate: binds to it must not disagree."""
    rates: dict[tuple[str, int, str], float] = {}
    for i, bind in enumerate(binds):
        account = (bind.host, bind.port, bind.system_id)
        if rates.setdefault(account, bind.rate) != bind.rate:
            raise ConfigError(
                f"smpp.connections#{i + 1}: rate {bind.rate:g} differs from "
                f"{rates[account]:g} for the same SMSC account ({bind.system_id} at "
                f"{bind.host}:{bind.port}); the rate is the account's, one for all its binds"
            )


@dataclass(frozen=True)
class SmsSettings:
    service_number: str
    # Replies to MO messages come from the service number ("number") or the sender id.
    reply_from: str = setting(choices=("number", "sender"))
    service_number_ton: int = setting(**TON)
    service_number_npi: int = setting(**NPI)
    # At most one help reply (unknown text) per sender per this many seconds.
    help_reply_interval_seconds: int = setting(high=YEAR_SECONDS)
    outbox_group: str
    # Sent (acknowledged) outbox SMS are kept this long, then trimmed from the stream.
    outbox_retention_seconds: int = setting(low=1, high=YEAR_SECONDS)
    # Temporary failures of an outbox SMS are retried up to this many times.
    max_attempts: int = setting(low=1, high=1000)


@dataclass(frozen=True)
class BlastSettings:
    sender_id: str
    sender_ton: int = setting(**TON)
    sender_npi: int = setting(**NPI)
    keyword: str
    short_code: str
    # Quiet hours in local time (service.utc_offset_hours), "HH:MM-HH:MM"; "" = none.
    quiet_hours: str
    # Recipients taken from the queue per Redis round trip.
    batch_size: int = setting(low=1, high=10_000)
    # Temporary failures per recipient before it is marked failed.
    max_attempts: int = setting(low=1, high=1000)
    # Message id -> recipient mapping lifetime (receipts arrive within this time).
    receipt_ttl_seconds: int = setting(low=1, high=YEAR_SECONDS)
    # A batch's lease: a sender that stops renewing it (crashed) loses its batch to the
    # other senders after this many seconds (it is renewed every half second).
    lease_seconds: float = setting(low=1, high=3600)


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
    settings = config.load("blast", BlastSettings)
    if settings.quiet_hours and not _QUIET_HOURS.match(settings.quiet_hours):
        raise ConfigError(f'blast.quiet_hours = {settings.quiet_hours!r}: HH:MM-HH:MM or ""')
    longest = 11 if settings.sender_ton == 5 else 20  # alphanumeric: 11 characters
    if not 0 < len(settings.sender_id) <= longest:
        raise ConfigError(
            f"blast.sender_id: 1-{longest} characters for sender_ton {settings.sender_ton}"
        )
    return settings
