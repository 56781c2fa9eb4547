"""Typed settings of the plumbing: `[service]`, `[http]`, `[redis]`.

Defaults live in `config.toml` only (see :mod:`core.config`); these classes
say what type each setting has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.config import Config, ConfigError
from core.config_values import DAY_SECONDS, setting

PORT = {"low": 1, "high": 65535}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Every key starts with "<prefix>:": no braces (a hash tag would move keys between Cluster
# slots), no spaces or colons.
_KEY_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_HOST = re.compile(r"^([A-Za-z0-9_.-]+|[0-9A-Fa-f:.]+)$")  # a name, IPv4 or IPv6
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+cluster://")


@dataclass(frozen=True)
class ServiceSettings:
    public_base_url: str
    video_url: str
    log_level: str
    log_format: str = setting(choices=("text", "json"))
    # Hours east of UTC for dates shown to users and for "today" (WIB = 7).
    utc_offset_hours: float = setting(low=-12, high=14)


@dataclass(frozen=True)
class HttpSettings:
    host: str
    port: int = setting(**PORT)
    workers: int = setting(low=1, high=256)
    max_body_bytes: int = setting(low=1024)
    max_upload_bytes: int = setting(low=1024)
    client_address_header: str
    # Main-port connections one worker holds at most; 0 = 40 % of its open-files limit.
    max_connections: int = setting(high=1_000_000)
    idle_timeout_seconds: float = setting(low=1, high=3600)
    head_timeout_seconds: float = setting(low=1, high=300)
    body_timeout_seconds: float = setting(low=1, high=3600)
    # `serve --workers N`: seconds a stop waits for the workers before killing the rest.
    stop_grace_seconds: float = setting(low=1, high=3600)


@dataclass(frozen=True)
class RedisSettings:
    url: str
    private_port: int = setting(**PORT)
    private_dir: str
    key_prefix: str
    max_connections: int = setting(low=1, high=10_000)
    socket_timeout: float = setting(low=0.01, high=3600)
    cluster: bool
    wait_replicas: int = setting(high=16)
    # WAIT with a timeout of 0 would block forever.
    wait_timeout_ms: int = setting(low=1, high=DAY_SECONDS * 1000)
    wait_connections: int = setting(low=1, high=1000)

    @property
    def is_cluster(self) -> bool:
        return self.cluster or self.url.startswith("redis+cluster://")


@dataclass(frozen=True)
class MetricsSettings:
    # Where the processes of this host keep metric values ("" = in each process).
    multiproc_dir: str
    # The bearer token /metrics requires: USSD_METRICS_TOKEN or this file ("" = open).
    token_file: str


def metrics_settings(config: Config) -> MetricsSettings:
    return config.load("metrics", MetricsSettings)


def service_settings(config: Config) -> ServiceSettings:
    settings = config.load("service", ServiceSettings)
    if settings.log_level.upper() not in LOG_LEVELS:
        known = ", ".join(LOG_LEVELS)
        raise ConfigError(f"service.log_level = {settings.log_level!r}: one of {known}")
    for name in ("public_base_url", "video_url"):  # links sent to people: must open
        check_web_url(f"service.{name}", getattr(settings, name))
    return settings


def check_web_url(where: str, url: str) -> None:
    """An absolute http(s) URL with a host, or ConfigError."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https") or not rest.split("/", 1)[0].strip():
        raise ConfigError(f"{where} = {url!r}: expected an http:// or https:// URL")


def http_settings(config: Config) -> HttpSettings:
    settings = config.load("http", HttpSettings)
    if not _HOST.match(settings.host):  # else the start hangs in DNS, then a traceback
        raise ConfigError(f"http.host = {settings.host!r}: an IP address or a host name")
    return settings


def redis_settings(config: Config) -> RedisSettings:
    settings = config.load("redis", RedisSettings)
    if settings.url and not settings.url.startswith(_REDIS_SCHEMES):  # not echoed: a password
        raise ConfigError(
            f'redis.url: expected one of {", ".join(_REDIS_SCHEMES)} (or "" for the private '
            "development Redis)"
        )
    if not _KEY_PREFIX.match(settings.key_prefix):
        raise ConfigError(
            f"redis.key_prefix = {settings.key_prefix!r}: 1-32 letters, digits, '_', '.' or '-'"
        )
    return settings
