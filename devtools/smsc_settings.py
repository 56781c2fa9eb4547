"""`[smsc_sim]`: the development SMSC's own settings (it plays the operator's SMSC)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config


@dataclass
class SimSettings:
    """Mutable: the control port switches behaviour at run time (``POST /config``)."""

    host: str
    port: int
    control_port: int
    system_id: str
    password: str
    receipts: bool
    receipt_delay: float
    receipt_stat: str
    throttle_every: int
    max_rate: float
    drop_after: int
    # Part N of a concatenated message is refused (RTHROTTLED) once per number; 0 = never.
    refuse_part: int
    latency: float
    # SMS submit_sm (not USSD screens) left unanswered / answered RTHROTTLED: an SMSC
    # whose SMS side is stuck or throttling while its USSD gateway is not.
    stall_sms: bool
    throttle_sms: bool
    sms_error: int  # every SMS submit_sm answered with this status (0 = off)
    # The next N USSD screens are answered with refuse_ussd_status (counts down).
    refuse_ussd: int
    refuse_ussd_status: int
    # How the simulated network speaks USSD (a table in smpp.ussd_variants).
    ussd_variant: str
    early_pdus: bool  # an enquire_link and an MO before each bind_resp


def sim_settings(config: Config) -> SimSettings:
    return config.load("smsc_sim", SimSettings)
