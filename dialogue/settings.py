"""The dialogue's typed settings: `[dialogue]` as written, and what the engine runs with."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config
from core.config_values import YEAR_SECONDS, setting
from core.settings import service_settings
from registration.settings import session_labels


@dataclass(frozen=True)
class DialogueSettings:
    """`[dialogue]` as written in config.toml."""

    menus_file: str
    default_language: str = setting(choices=("id", "en"))
    # A list's numbers stay below 98 (the next-page key).
    max_list_items: int = setting(low=1, high=97)
    resend_interval_seconds: int = setting(high=YEAR_SECONDS)
    help_email: str
    service_codes: tuple[str, ...]
    ussd_session_ttl_seconds: int = setting(low=1, high=YEAR_SECONDS)
    resume_window_seconds: int = setting(high=YEAR_SECONDS)
    sms_session_ttl_seconds: int = setting(low=1, high=YEAR_SECONDS)
    web_session_ttl_seconds: int = setting(low=1, high=YEAR_SECONDS)


# A USSD screen's room in GSM-7 septets when an edge gives no limit of its own (every
# edge passes its gateway's limit with each hop: [ussd] max_screen_chars and the like).
USSD_SCREEN_SEPTETS = 160
# GSM 03.38: a USSD string carries at most 182 septets; the menus' screens need some 64.
USSD_SEPTETS_MIN, USSD_SEPTETS_MAX = 64, 182


@dataclass(frozen=True)
class EngineSettings:
    """What the engine runs with, gathered from `[dialogue]`, `[service]`, `[registration]`."""

    session_ttl_seconds: int
    resume_window_seconds: int
    sms_session_ttl_seconds: int
    web_session_ttl_seconds: int
    max_screen_chars: int  # USSD, when the edge passes no limit of its own
    service_codes: frozenset[str]  # normalised: "119"
    default_language: str
    max_list_items: int
    resend_interval_seconds: int
    help_email: str
    public_base_url: str  # without a trailing "/"
    video_url: str
    utc_offset_hours: float
    session_labels: dict[str, str]  # "pagi" -> "08:00-12:00"


def normalise_service_code(code: str) -> str:
    """'*119#', '119', ' *119*1# ' -> '119' (the base code; extensions are ignored)."""
    return code.strip().strip("*#").split("*", 1)[0]


def settings_from_config(config: Config) -> tuple[EngineSettings, DialogueSettings]:
    dialogue = config.load("dialogue", DialogueSettings)
    service = service_settings(config)
    settings = EngineSettings(
        session_ttl_seconds=dialogue.ussd_session_ttl_seconds,
        resume_window_seconds=dialogue.resume_window_seconds,
        sms_session_ttl_seconds=dialogue.sms_session_ttl_seconds,
        web_session_ttl_seconds=dialogue.web_session_ttl_seconds,
        max_screen_chars=USSD_SCREEN_SEPTETS,
        service_codes=frozenset(normalise_service_code(c) for c in dialogue.service_codes),
        default_language=dialogue.default_language,
        max_list_items=dialogue.max_list_items,
        resend_interval_seconds=dialogue.resend_interval_seconds,
        help_email=dialogue.help_email,
        public_base_url=service.public_base_url.rstrip("/"),
        video_url=service.video_url,
        utc_offset_hours=service.utc_offset_hours,
        session_labels=session_labels(config),
    )
    return settings, dialogue
