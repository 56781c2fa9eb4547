"""`[ussd]` and `[ussd.dialects.<name>]`: the USSD gateway edge's typed settings."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config


@dataclass(frozen=True)
class GatewaySettings:
    # Longest screen in GSM-7 septets, unless a dialect says less.
    max_screen_chars: int
    # Serve dialects without any authentication (closed test networks, `make run`).
    allow_unauthenticated: bool
    # A second port serving only the gateway endpoints through the lean listener (0 = none).
    gateway_port: int


@dataclass(frozen=True)
class DialectSettings:
    enabled: bool
    max_screen_chars: int  # 0 = [ussd] max_screen_chars
    auth_header: str
    secret_file: str
    basic_user: str
    basic_password_file: str
    allow_cidrs: tuple[str, ...]


def gateway_settings(config: Config) -> GatewaySettings:
    return config.load("ussd", GatewaySettings)


def dialect_settings(config: Config, name: str) -> DialectSettings:
    return config.load(f"ussd.dialects.{name}", DialectSettings)
