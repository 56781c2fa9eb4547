"""Typed settings of the app shell: `[operator_api]`, `[ticket_images]`, `[console]`."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config
from core.config_values import DAY_SECONDS, YEAR_SECONDS, setting


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
