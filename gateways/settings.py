"""`[ussd]` and `[ussd.dialects.<name>]`: the USSD gateway edge's typed settings."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from core.config import Config, ConfigError
from core.config_values import setting
from dialogue.settings import USSD_SEPTETS_MAX, USSD_SEPTETS_MIN

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]*$")  # RFC 9110 token ("" = none)


@dataclass(frozen=True)
class GatewaySettings:
    # Longest screen in GSM-7 septets, unless a dialect says less.
    max_screen_chars: int = setting(low=USSD_SEPTETS_MIN, high=USSD_SEPTETS_MAX)
    # Serve dialects without any authentication (closed test networks, `make run`).
    allow_unauthenticated: bool
    # A second port serving only the gateway endpoints through the lean listener (0 = none).
    gateway_port: int = setting(high=65535)


@dataclass(frozen=True)
class DialectSettings:
    enabled: bool
    max_screen_chars: int = setting(high=USSD_SEPTETS_MAX)  # 0 = [ussd] max_screen_chars
    auth_header: str
    secret_file: str
    basic_user: str
    basic_password_file: str
    allow_cidrs: tuple[str, ...]


def gateway_settings(config: Config) -> GatewaySettings:
    return config.load("ussd", GatewaySettings)


def dialect_settings(config: Config, name: str) -> DialectSettings:
    settings = config.load(f"ussd.dialects.{name}", DialectSettings)
    where = f"ussd.dialects.{name}"
    if 0 < settings.max_screen_chars < USSD_SEPTETS_MIN:  # too small for the menus' screens
        span = f"{USSD_SEPTETS_MIN}-{USSD_SEPTETS_MAX}"
        raise ConfigError(f"{where}.max_screen_chars: 0 (the default) or {span}")
    if not _HEADER_NAME.match(settings.auth_header):
        raise ConfigError(f"{where}.auth_header = {settings.auth_header!r}: not a header name")
    if ":" in settings.basic_user:
        raise ConfigError(f"{where}.basic_user: a basic auth user cannot contain ':'")
    for cidr in settings.allow_cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise ConfigError(f"{where}.allow_cidrs: {exc}") from exc
    return settings
