"""A setting that cannot work stops `serve` at start-up with one line naming it, never a
traceback, and never a server that fails later (a fork per worker asked for, a NaN
timeout, a blast loop that dies on its quiet hours, weekends that stay bookable)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import ConfigError, load_config
from core.settings import http_settings
from smpp.settings import smpp_settings
from tests.conftest import TEST_REDIS_URL
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent

REFUSED = [
    ("USSD_HTTP_WORKERS", "0", "http.workers = 0: must be at least 1"),
    ("USSD_HTTP_WORKERS", "99999999999", "http.workers = 99999999999: must be at most 256"),
    ("USSD_HTTP_MAX_BODY_BYTES", "-1", "http.max_body_bytes = -1"),
    ("USSD_HTTP_HOST", "??", "http.host = '??': an IP address or a host name"),
    ("USSD_HTTP_STOP_GRACE_SECONDS", "0", "http.stop_grace_seconds = 0.0: must be at least 1"),
    ("USSD_SERVICE_UTC_OFFSET_HOURS", "99999999999", "service.utc_offset_hours"),
    ("USSD_SERVICE_LOG_LEVEL", "LOUD", "service.log_level = 'LOUD': one of DEBUG"),
    ("USSD_SERVICE_PUBLIC_BASE_URL", "vaksin.example", "service.public_base_url"),
    ("USSD_REDIS_URL", "localhost:6379", "redis.url: expected one of redis://"),
    ("USSD_REDIS_KEY_PREFIX", "", "redis.key_prefix = ''"),
    ("USSD_REDIS_KEY_PREFIX", "vx{1}", "redis.key_prefix = 'vx{1}'"),
    ("USSD_REDIS_SOCKET_TIMEOUT", "nan", "redis.socket_timeout = nan: must be a finite number"),
    ("USSD_REDIS_SOCKET_TIMEOUT", "0", "redis.socket_timeout = 0.0: must be at least 0.01"),
    ("USSD_REDIS_WAIT_TIMEOUT_MS", "0", "redis.wait_timeout_ms = 0"),
    ("USSD_REDIS_MAX_CONNECTIONS", "-1", "redis.max_connections = -1"),
    ("USSD_REGISTRATION_MAX_NIK_ATTEMPTS", "0", "registration.max_nik_attempts = 0"),
    ("USSD_REGISTRATION_CLOSED_WEEKDAYS", "0", "registration.closed_weekdays[0] = 0"),
    ("USSD_REGISTRATION_CLOSED_WEEKDAYS", "1,2,3,4,5,6,7", "at least one weekday must be open"),
    ("USSD_REGISTRATION_SCREENING_FILE", "menus/none.toml", "menus/none.toml"),
    ("USSD_DIALOGUE_MENUS_FILE", "menus/none.toml", "menus/none.toml"),
    ("USSD_DIALOGUE_DEFAULT_LANGUAGE", "fr", "dialogue.default_language = 'fr': one of id, en"),
    ("USSD_CONSOLE_LOGIN_ATTEMPTS", "0", "console.login_attempts = 0"),
    # read per request: it used to be found wrong at the first ticket image asked for
    ("USSD_TICKET_IMAGES_PROBE_LIMIT", "0", "ticket_images.probe_limit = 0: must be at least 1"),
    ("USSD_CONSOLE_SESSION_MINUTES", "99999999999", "console.session_minutes"),
    ("USSD_USSD_DIALECTS_HUBTEL_ALLOW_CIDRS", "10.0.0.0/33", "ussd.dialects.hubtel.allow_cidrs"),
    ("USSD_USSD_MAX_SCREEN_CHARS", "500", "ussd.max_screen_chars = 500: must be at most 182"),
    ("USSD_SMPP_BIND_MODE", "both", "smpp.bind_mode = 'both': one of transceiver"),
    ("USSD_SMPP_WINDOW", "0", "smpp.window = 0: must be at least 1"),
    ("USSD_SMPP_CHANNELS", "sms,mms", "smpp.channels[1] = 'mms': one of sms, ussd"),
    ("USSD_BLAST_QUIET_HOURS", "late", "blast.quiet_hours = 'late': HH:MM-HH:MM"),
    ("USSD_BLAST_SENDER_ID", "PEDULICOVID19", "blast.sender_id: 1-11 characters"),
]


def serve_env(variable: str, value: str) -> dict[str, str]:
    """Everything `serve` needs to start on the test Redis, SMS and WhatsApp included,
    then the one setting under test."""
    return {
        **os.environ,
        "USSD_REDIS_URL": TEST_REDIS_URL,
        "USSD_REDIS_KEY_PREFIX": "cfglimits",
        "USSD_TICKETS_SIGNING_KEY": "limits-signing-key",
        "USSD_OPERATOR_API_TOKEN": "limits-operator-token-0123456789",
        "USSD_CONSOLE_SESSION_KEY": "limits-console-key",
        "USSD_USSD_ALLOW_UNAUTHENTICATED": "true",
        "USSD_SMPP_ENABLED": "true",
        "USSD_SMPP_PASSWORD": "limits",
        "USSD_METRICS_MULTIPROC_DIR": "",
        variable: value,
    }


@pytest.mark.parametrize(("variable", "value", "named"), REFUSED)
def test_serve_refuses_a_setting_that_cannot_work(variable: str, value: str, named: str) -> None:
    argv = [sys.executable, "-m", "ussd_server", "serve", "--port", str(free_port())]
    env = serve_env(variable, value)
    # its own process group: if the value were accepted, its workers go down with it
    server = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        _, stderr = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.communicate()
        pytest.fail(f"{variable}={value!r} was accepted: the server started")
    assert server.returncode == 2, stderr
    assert stderr.startswith("config error: ") and named in stderr, stderr
    assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr


def test_a_deployment_file_s_value_of_the_wrong_type_is_named(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text('[http]\nworkers = "2"\n')
    with pytest.raises(ConfigError, match=r"http.workers = '2': expected an integer"):
        http_settings(load_config(site, environ={}))
    site.write_text("[http]\nworkers = 2.5\n")
    with pytest.raises(ConfigError, match=r"http.workers = 2.5: expected an integer"):
        http_settings(load_config(site, environ={}))
    site.write_text("[http]\nworkers = 2\n")
    assert http_settings(load_config(site, environ={})).workers == 2


def test_each_smpp_connection_table_is_checked_like_smpp_itself(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    two_binds = '[[smpp.connections]]\nhost = "a"\n\n[[smpp.connections]]\nwindow = "50"\n'
    site.write_text(two_binds)
    settings = smpp_settings(load_config(site, environ={}))
    with pytest.raises(ConfigError, match=r"smpp.connections#2.window = '50': expected an integer"):
        settings.binds("secret")
    site.write_text('[[smpp.connections]]\nhost = "smsc-a"\nreconnect_max = 0.5\n')
    with pytest.raises(ConfigError, match="reconnect_max must not be below reconnect_min"):
        smpp_settings(load_config(site, environ={})).binds("secret")
    site.write_text('[[smpp.connections]]\nhost = "smsc-a"\nwindow = 10\n')
    (bind,) = smpp_settings(load_config(site, environ={})).binds("secret")
    assert (bind.host, bind.window, bind.port) == ("smsc-a", 10, 2775)


def test_a_section_config_toml_does_not_have_is_a_typo_not_ignored(tmp_path: Path) -> None:
    """[redsi] would have left the service on the private development Redis."""
    site = tmp_path / "site.toml"
    site.write_text('[redsi]\nurl = "redis://10.0.0.5:6379/0"\n')
    with pytest.raises(ConfigError, match=r"unknown section \[redsi\]"):
        load_config(site, environ={})
    site.write_text("[ussd.dialects.nokia]\nenabled = true\n")
    with pytest.raises(ConfigError, match=r"unknown section \[ussd.dialects.nokia\]"):
        load_config(site, environ={})
    site.write_text('url = "redis://10.0.0.5:6379/0"\n[redis]\nkey_prefix = "site"\n')
    with pytest.raises(ConfigError, match="a setting outside any"):
        load_config(site, environ={})
