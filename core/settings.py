"""Typed settings of the plumbing: `[service]`, `[http]`, `[redis]`.

Defaults live in `config.toml` only (see :mod:`core.config`); these classes
say what type each setting has.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config, ConfigError


@dataclass(frozen=True)
class ServiceSettings:
    public_base_url: str
    video_url: str
    log_level: str
    log_format: str
    # Hours east of UTC for dates shown to users and for "today" (WIB = 7).
    utc_offset_hours: float


@dataclass(frozen=True)
class HttpSettings:
    host: str
    port: int
    workers: int
    max_body_bytes: int
    max_upload_bytes: int
    client_address_header: str


@dataclass(frozen=True)
class RedisSettings:
    url: str
    private_port: int
    private_dir: str
    key_prefix: str
    max_connections: int
    socket_timeout: float
    cluster: bool
    wait_replicas: int
    wait_timeout_ms: int
    wait_connections: int

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
    if settings.log_format not in ("text", "json"):
        raise ConfigError('[service] log_format must be "text" or "json"')
    return settings


def http_settings(config: Config) -> HttpSettings:
    return config.load("http", HttpSettings)


def redis_settings(config: Config) -> RedisSettings:
    settings = config.load("redis", RedisSettings)
    if settings.wait_connections < 1:
        raise ConfigError("[redis] wait_connections must be at least 1")
    return settings
