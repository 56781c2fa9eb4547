"""The configuration reference (docs/configuration.md), made from config.toml's own comments.

    .venv/bin/python scripts/config_reference.py            # print it
    .venv/bin/python scripts/config_reference.py --update   # rewrite docs/configuration.md

Each setting in config.toml has its own comment right above it; that comment is
its description here. `tests/test_docs.py` checks that every setting has one and
that the reference is current, so the settings file and the docs cannot drift.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import settings as core_settings  # noqa: E402
from core.config_values import limits_of, number_text  # noqa: E402
from devtools.phone_page import SimulatorSettings  # noqa: E402
from devtools.smsc_settings import SimSettings  # noqa: E402
from devtools.wa_sim import WaSimSettings  # noqa: E402
from dialogue.settings import DialogueSettings  # noqa: E402
from gateways.settings import DialectSettings, GatewaySettings  # noqa: E402
from registration.settings import RegistrationSettings, TicketSettings  # noqa: E402
from smpp.settings import BlastSettings, SmppSettings, SmsSettings  # noqa: E402
from ussd_server import settings as shell_settings  # noqa: E402
from web.settings import WebSettings  # noqa: E402
from whatsapp.settings import WhatsAppSettings  # noqa: E402

# Which settings class reads which section (its field types and limits fill "allowed").
CLASSES: dict[str, type] = {
    "service": core_settings.ServiceSettings,
    "metrics": core_settings.MetricsSettings,
    "http": core_settings.HttpSettings,
    "redis": core_settings.RedisSettings,
    "operator_api": shell_settings.OperatorApiSettings,
    "ticket_images": shell_settings.TicketImageSettings,
    "console": shell_settings.ConsoleSettings,
    "simulator": SimulatorSettings,
    "tickets": TicketSettings,
    "registration": RegistrationSettings,
    "dialogue": DialogueSettings,
    "web": WebSettings,
    "ussd": GatewaySettings,
    "ussd.dialects": DialectSettings,
    "smpp": SmppSettings,
    "sms": SmsSettings,
    "blast": BlastSettings,
    "whatsapp": WhatsAppSettings,
    "smsc_sim": SimSettings,
    "wa_sim": WaSimSettings,
}
TARGET = ROOT / "docs" / "configuration.md"

HEADER = """# Configuration reference

Generated from `config.toml` by `make docs`; do not edit by hand.

Every setting lives in `config.toml` with its default. A deployment keeps its own
file with only what it changes (`--config PATH` or `USSD_CONFIG`), laid over the
defaults; then each setting can be overridden by the environment variable shown.
A value of the wrong type, or outside what the "allowed" column says (numbers are
finite and at least 0 unless it says otherwise), stops start-up with one line naming
the setting; so does a section or setting this table does not list (a typo).
Secrets (the ticket signing key, the operator token, gateway secrets, the SMPP
password, the WhatsApp access token, app secret and verify token) never live in a
file of settings: each comes from its environment variable or from the file its
`*_file` setting names; an empty secret is a start-up error.

"""


def rows(text: str) -> list[tuple[str, str, str, str]]:
    """(section, key, default, description) for every setting, in file order.

    The description is the comment block directly above the setting (no blank line
    between); a setting without one gets "" (the docs test refuses that).
    """
    out: list[tuple[str, str, str, str]] = []
    section, comment, in_array = "", [], False
    for raw in text.splitlines():
        line = raw.strip()
        if in_array:
            in_array = not line.startswith("]")
            continue
        if not line:
            comment = []
        elif line.startswith("#"):
            comment.append(line.lstrip("#").strip())
        elif line.startswith("["):
            section, comment = line.strip("[]"), []
        elif "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            if value.startswith("[") and not value.endswith("]"):
                in_array, value = True, "[...]"
            out.append((section, key, value, " ".join(comment)))
            comment = []
    return out


def markdown(text: str) -> str:
    lines = [
        HEADER.rstrip("\n"),
        "",
        "| setting | environment variable | default | allowed | meaning |",
        "|---|---|---|---|---|",
    ]
    for section, key, default, description in rows(text):
        env = "USSD_" + f"{section}_{key}".replace(".", "_").upper()
        cell = default.replace("|", "\\|")
        lines.append(
            f"| `{section}.{key}` | `{env}` | `{cell}` | {allowed(section, key)} | {description} |"
        )
    return "\n".join(lines) + "\n"


def allowed(section: str, key: str) -> str:
    """What the settings class accepts for ``section.key``: a range, or the words."""
    cls = CLASSES.get("ussd.dialects" if section.startswith("ussd.dialects.") else section)
    fields = {f.name: f for f in dataclasses.fields(cls)} if cls else {}
    if key not in fields:
        return ""
    hint: Any = typing.get_type_hints(cls)[key]
    limits = limits_of(fields[key])
    if typing.get_origin(hint) in (tuple, list):
        hint = typing.get_args(hint)[0]
    if limits.choices:
        return ", ".join(f"`{c}`" for c in limits.choices)
    if hint in (int, float):
        low, high = limits.low, limits.high
        if high is None:
            return f"≥ {number_text(low)}" if low is not None else "any"
        if low is None:
            return f"≤ {number_text(high)}"
        return f"{number_text(low)} - {number_text(high)}"
    return ""


def current() -> str:
    return markdown((ROOT / "config.toml").read_text(encoding="utf-8"))


if __name__ == "__main__":
    if "--update" in sys.argv:
        TARGET.write_text(current(), encoding="utf-8")
    else:
        sys.stdout.write(current())
