"""Typed settings of the app shell: `[operator_api]`, `[ticket_images]`, `[console]`."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config


@dataclass(frozen=True)
class OperatorApiSettings:
    token_file: str
    # /api/openapi.json and /api/docs without a token.
    public_description: bool


@dataclass(frozen=True)
class TicketImageSettings:
    # Unknown ticket codes one client address may ask for per window, then 429.
    probe_limit: int
    probe_window_seconds: int


@dataclass(frozen=True)
class ConsoleSettings:
    enabled: bool
    agents_file: str  # "" = operator tokens only
    session_key_file: str
    session_minutes: int
    login_attempts: int
    login_window_seconds: int
    audit_max_entries: int
    dashboard_days: int
    dashboard_facilities: int
    seats_days: int
    dashboard_refresh_seconds: int
    dashboard_figures_seconds: float
    activity_retention_days: int


def console_settings(config: Config) -> ConsoleSettings:
    return config.load("console", ConsoleSettings)


def ticket_image_settings(config: Config) -> TicketImageSettings:
    return config.load("ticket_images", TicketImageSettings)


def operator_api_settings(config: Config) -> OperatorApiSettings:
    return config.load("operator_api", OperatorApiSettings)
