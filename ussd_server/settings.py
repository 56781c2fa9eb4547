"""Typed settings of the app shell: `[operator_api]`, `[ticket_images]`, `[console]`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.config import Config
from core.config_values import DAY_SECONDS, YEAR_SECONDS, setting
from core.settings import http_settings, metrics_settings, redis_settings, service_settings
from dialogue.settings import settings_from_config
from gateways.dialects import DIALECTS
from gateways.settings import dialect_settings, gateway_settings
from registration.settings import load_settings
from smpp.settings import blast_settings, smpp_settings, sms_settings
from web.settings import web_settings
from whatsapp.settings import whatsapp_settings


@dataclass(frozen=True)
class OperatorApiSettings:
    token_file: str
    # /api/openapi.json and /api/docs without a token.
    public_description: bool


@dataclass(frozen=True)
class TicketImageSettings:
    # Unknown ticket codes one client address may ask for per window, then 429.
    probe_limit: int = setting(low=1)
    probe_window_seconds: int = setting(low=1, high=DAY_SECONDS)


@dataclass(frozen=True)
class ConsoleSettings:
    enabled: bool
    agents_file: str  # "" = operator tokens only
    session_key_file: str
    session_minutes: int = setting(low=1, high=7 * 24 * 60)
    login_attempts: int = setting(low=1)
    login_window_seconds: int = setting(low=1, high=YEAR_SECONDS)
    audit_max_entries: int = setting(low=1)
    dashboard_days: int = setting(low=1, high=366)
    dashboard_facilities: int = setting(low=1, high=1000)
    seats_days: int = setting(low=1, high=366)
    dashboard_refresh_seconds: int = setting(high=DAY_SECONDS)
    dashboard_figures_seconds: float = setting(high=3600)
    activity_retention_days: int = setting(low=1, high=3660)


def console_settings(config: Config) -> ConsoleSettings:
    return config.load("console", ConsoleSettings)


def ticket_image_settings(config: Config) -> TicketImageSettings:
    return config.load("ticket_images", TicketImageSettings)


def operator_api_settings(config: Config) -> OperatorApiSettings:
    return config.load("operator_api", OperatorApiSettings)


def check_every_setting(config: Config) -> None:
    """Read every section a process of the service may use, whether its feature is on or
    not: a value that cannot work stops the start (ConfigError), never a request later
    (the shell reads some sections per request, e.g. the ticket image limits)."""
    loaders: list[Callable[[Config], object]] = [
        service_settings, http_settings, redis_settings, metrics_settings,
        operator_api_settings, ticket_image_settings, console_settings,
        load_settings, settings_from_config, web_settings, whatsapp_settings,
        gateway_settings, sms_settings, blast_settings,
    ]  # fmt: skip
    for load in loaders:
        load(config)
    for name in DIALECTS:
        dialect_settings(config, name)
    smpp_settings(config).binds(password="")  # each [[smpp.connections]] table too
