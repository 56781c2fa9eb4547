"""`[web]`: the registration website's typed settings (defaults only in config.toml)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config, ConfigError


@dataclass(frozen=True)
class WebSettings:
    enabled: bool
    texts_file: str
    csrf_secret_file: str
    code_ttl_seconds: int
    code_max_tries: int
    codes_per_phone: int
    phone_window_seconds: int
    codes_per_client: int
    client_window_seconds: int
    list_page_size: int
    secure_cookie: bool


def web_settings(config: Config) -> WebSettings:
    settings = config.load("web", WebSettings)
    for name in ("code_ttl_seconds", "code_max_tries", "codes_per_phone", "list_page_size"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"[web] {name} must be at least 1")
    return settings
