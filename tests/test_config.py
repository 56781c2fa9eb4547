"""Settings: file defaults, USSD_<SECTION>_<KEY> overrides, typed loading, secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from core.config import ConfigError, env_name, load_config
from core.settings import redis_settings
from registration.settings import load_settings
from registration.slots import window_days


@dataclass
class HttpSettings:
    host: str = "0.0.0.0"
    port: int = 1
    workers: int = 1
    max_body_bytes: int = 0
    max_upload_bytes: int = 0
    client_address_header: str = ""
    max_connections: int = 0
    idle_timeout_seconds: float = 0.0
    head_timeout_seconds: float = 0.0
    body_timeout_seconds: float = 0.0
    stop_grace_seconds: float = 0.0


def test_file_defaults_are_read() -> None:
    config = load_config(environ={})
    http = config.load("http", HttpSettings)
    assert http.port == 8080
    assert http.host == "127.0.0.1"


def test_environment_overrides_are_typed() -> None:
    config = load_config(environ={"USSD_HTTP_PORT": "9090", "USSD_REDIS_URL": "redis://x:1/2"})
    assert config.load("http", HttpSettings).port == 9090
    assert config.section("redis")["url"] == "redis://x:1/2"


@pytest.mark.parametrize("written", ["6,7", "[6, 7]", " 6 , 7 "])
def test_closed_weekdays_from_the_environment_close_those_days(written: str) -> None:
    """ "6,7" once arrived as the strings "6" and "7", which no weekday number equals:
    weekends stayed bookable."""
    config = load_config(environ={"USSD_REGISTRATION_CLOSED_WEEKDAYS": written})
    registration, _, _ = load_settings(config)
    assert registration.closed_weekdays == (6, 7)
    days = window_days(date(2021, 1, 13), 14, registration.closed_weekdays)
    assert len(days) == 10 and all(d.isoweekday() <= 5 for d in days)


def test_a_mistyped_override_fails_loudly() -> None:
    with pytest.raises(ConfigError, match="USSD_HTTP_PORT"):
        load_config(environ={"USSD_HTTP_PORT": "eighty"})


def test_unknown_setting_in_a_section_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[http]\nport = 1\nprot = 2\n")
    with pytest.raises(ConfigError, match="prot"):
        load_config(path, environ={}).load("http", HttpSettings)


def test_config_flag_picks_another_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[http]\nport = 7000\n")
    assert load_config(path, environ={}).load("http", HttpSettings).port == 7000


def test_nested_sections_use_underscores() -> None:
    assert env_name("ussd.dialects.hubtel", "secret") == "USSD_USSD_DIALECTS_HUBTEL_SECRET"


def test_secret_from_environment_then_file(tmp_path: Path) -> None:
    config = load_config(environ={"USSD_TICKETS_SIGNING_KEY": "from-env"})
    assert config.secret("tickets", "signing_key") == "from-env"
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    config = load_config(environ={}, overrides={"tickets.signing_key_file": str(key_file)})
    assert config.secret("tickets", "signing_key") == "from-file"


def test_missing_secret_says_how_to_set_it(tmp_path: Path) -> None:
    config = load_config(
        environ={}, overrides={"tickets.signing_key_file": str(tmp_path / "absent")}
    )
    with pytest.raises(ConfigError, match="USSD_TICKETS_SIGNING_KEY"):
        config.secret("tickets", "signing_key")


def test_a_deployment_file_lists_only_what_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text('[redis]\nurl = "redis://10.0.0.5:6379/0"\n')
    config = load_config(path, environ={})
    assert config.section("redis")["url"] == "redis://10.0.0.5:6379/0"
    assert config.section("redis")["key_prefix"] == "vx"  # the default, from config.toml
    assert config.load("http", HttpSettings).port == 8080


def test_a_setting_missing_from_the_tree_is_named() -> None:
    config = load_config(environ={})
    del config.tree["http"]["workers"]
    with pytest.raises(ConfigError, match=r"\[http\] missing setting\(s\): workers"):
        config.load("http", HttpSettings)


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_an_empty_secret_is_an_error_not_a_disabled_check(tmp_path: Path, value: str) -> None:
    config = load_config(environ={"USSD_OPERATOR_API_TOKEN": value})
    with pytest.raises(ConfigError, match="empty"):
        config.secret("operator_api", "token")
    secret_file = tmp_path / "token"
    secret_file.write_text(value)
    config = load_config(environ={}, overrides={"operator_api.token_file": str(secret_file)})
    with pytest.raises(ConfigError, match="empty"):
        config.secret("operator_api", "token", required=False)


def test_bookings_need_at_least_one_connection_to_wait_on() -> None:
    config = load_config(environ={"USSD_REDIS_WAIT_CONNECTIONS": "0"})
    with pytest.raises(ConfigError, match=r"redis.wait_connections = 0: must be at least 1"):
        redis_settings(config)
    assert redis_settings(load_config(environ={})).wait_connections == 16


def test_a_directory_or_a_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    """Only a missing file or bad TOML was a ConfigError; these traced back instead."""
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, environ={})
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(environ={"USSD_CONFIG": str(tmp_path)})
    path = tmp_path / "latin1.toml"
    path.write_bytes('[service]\nname = "Pusat Sehat Café"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, environ={})
