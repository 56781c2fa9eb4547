"""`[whatsapp]`: the WhatsApp channel's typed settings and its three secrets."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config, ConfigError
from core.config_values import YEAR_SECONDS, setting
from core.settings import check_web_url


@dataclass(frozen=True)
class WhatsAppSettings:
    enabled: bool
    # The Graph API's versioned base, e.g. https://graph.facebook.com/v23.0 (no trailing /).
    graph_base_url: str
    # The business phone number's id (sends go to <graph_base_url>/<id>/messages).
    phone_number_id: str
    access_token_file: str
    app_secret_file: str
    verify_token_file: str
    # Largest webhook body accepted (Meta batches up to 1,000 updates per notification).
    max_body_bytes: int = setting(low=1024)
    # One Graph API request, answer included (seconds).
    request_timeout_seconds: float = setting(low=0.1, high=3600)
    # Phones sent to at the same time (each phone's messages go one after another).
    send_concurrency: int = setting(low=1, high=10_000)
    # Backoff after a 429, a 5xx or no answer: doubling from min to max, with jitter.
    retry_min_seconds: float = setting(low=0.01, high=3600)
    retry_max_seconds: float = setting(low=0.01, high=3600)
    # The customer-service window: free-form messages only this long after the user's last.
    window_seconds: int = setting(low=1, high=YEAR_SECONDS)
    # Approved template sent instead when the window has closed ("" = send nothing).
    template_name: str
    template_language: str
    # How long a webhook message id is remembered (Meta retries for about a day).
    dedupe_seconds: int = setting(low=1, high=YEAR_SECONDS)
    # At most one help reply (unknown text) per phone per this many seconds (anti-loop).
    help_reply_interval_seconds: int = setting(high=YEAR_SECONDS)
    # How long the delivery status of each sent message is kept (seconds).
    status_retention_seconds: int = setting(low=1, high=YEAR_SECONDS)


@dataclass(frozen=True)
class WhatsAppSecrets:
    access_token: str  # the Graph API bearer token
    app_secret: str  # the key of the webhook's X-Hub-Signature-256
    verify_token: str  # what Meta's verification handshake must present


def whatsapp_settings(config: Config) -> WhatsAppSettings:
    settings = config.load("whatsapp", WhatsAppSettings)
    check_web_url("whatsapp.graph_base_url", settings.graph_base_url)
    if settings.retry_max_seconds < settings.retry_min_seconds:
        raise ConfigError("whatsapp.retry_max_seconds must not be below retry_min_seconds")
    if settings.enabled and not settings.phone_number_id.strip():
        raise ConfigError(
            "[whatsapp] enabled without phone_number_id: set USSD_WHATSAPP_PHONE_NUMBER_ID "
            "to the business number's id from Meta's WhatsApp Manager"
        )
    return settings


def whatsapp_secrets(config: Config) -> WhatsAppSecrets:
    """All three, each from ``USSD_WHATSAPP_<NAME>`` or its ``*_file``; missing = ConfigError."""
    return WhatsAppSecrets(
        access_token=config.secret("whatsapp", "access_token") or "",
        app_secret=config.secret("whatsapp", "app_secret") or "",
        verify_token=config.secret("whatsapp", "verify_token") or "",
    )
