"""Per-dialect gateway authentication: shared-secret header, HTTP basic, IP allow-list.

Secrets are read once at start-up through ``config.secret`` (environment or
``*_file``), so a missing or empty secret fails the start, not the first call; an
enabled dialect with none of the three refuses to start unless ``[ussd]
allow_unauthenticated`` says otherwise (see gateways.routes). A refused
request gets 401 (credentials) or 403 (address) with the reason.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping

from core.config import Config
from core.secret_compare import same_secret
from gateways.settings import DialectSettings


class Guard:
    """Checks one dialect's requests; `check` returns (status, reason) when refused."""

    def __init__(self, name: str, settings: DialectSettings, config: Config) -> None:
        section = f"ussd.dialects.{name}"
        self.header = settings.auth_header
        self.secret = config.secret(section, "secret").encode() if self.header else b""
        self.basic: bytes = b""
        if settings.basic_user:
            password = config.secret(section, "basic_password") or ""
            self.basic = f"{settings.basic_user}:{password}".encode()
        self.networks = [ipaddress.ip_network(c, strict=False) for c in settings.allow_cidrs]
        self.active = bool(self.header or self.basic or self.networks)

    def check(self, remote: str, headers: Mapping[str, str]) -> tuple[int, str] | None:
        """``headers`` are looked up by lower-case name (aiohttp's are case-insensitive)."""
        if self.networks:
            try:
                address = ipaddress.ip_address(remote)
            except ValueError:
                return 403, "client address unknown"
            if not any(address in net for net in self.networks):
                return 403, f"address {address} is not allowed for this gateway"
        if self.header:
            given = headers.get(self.header.lower(), "")
            if not same_secret(given, self.secret):
                return 401, f"missing or wrong {self.header} header"
        if self.basic:
            auth = headers.get("authorization", "")
            scheme, _, value = auth.partition(" ")
            try:
                given = base64.b64decode(value, validate=True) if scheme.lower() == "basic" else b""
            except (binascii.Error, ValueError):
                given = b""
            if not same_secret(given, self.basic):
                return 401, "missing or wrong basic authentication"
        return None
