"""`[web]`: the registration website's typed settings (defaults only in config.toml)."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config
from core.config_values import DAY_SECONDS, YEAR_SECONDS, setting


@dataclass(frozen=True)
class WebSettings:
    enabled: bool
    texts_file: str
    csrf_secret_file: str
    code_ttl_seconds: int = setting(low=1, high=DAY_SECONDS)
    code_max_tries: int = setting(low=1, high=100)
    codes_per_phone: int = setting(low=1)
    phone_window_seconds: int = setting(low=1, high=YEAR_SECONDS)
    codes_per_client: int = setting(low=1)
    client_window_seconds: int = setting(low=1, high=YEAR_SECONDS)
    list_page_size: int = setting(low=1, high=97)
    secure_cookie: bool


def web_settings(config: Config) -> WebSettings:
    return config.load("web", WebSettings)
