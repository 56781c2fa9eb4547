"""The configuration reference (docs/configuration.md), made from config.toml's own comments.

    .venv/bin/python scripts/config_reference.py            # print it
    .venv/bin/python scripts/config_reference.py --update   # rewrite docs/configuration.md

Each setting in config.toml has its own comment right above it; that comment is
its description here. `tests/test_docs.py` checks that every setting has one and
that the reference is current, so the settings file and the docs cannot drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "configuration.md"

HEADER = """# Configuration reference

Generated from `config.toml` by `make docs`; do not edit by hand.

Every setting lives in `config.toml` with its default. A deployment keeps its own
file with only what it changes (`--config PATH` or `USSD_CONFIG`), laid over the
defaults; then each setting can be overridden by the environment variable shown.
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
        "| setting | environment variable | default | meaning |",
        "|---|---|---|---|",
    ]
    for section, key, default, description in rows(text):
        env = "USSD_" + f"{section}_{key}".replace(".", "_").upper()
        cell = default.replace("|", "\\|")
        lines.append(f"| `{section}.{key}` | `{env}` | `{cell}` | {description} |")
    return "\n".join(lines) + "\n"


def current() -> str:
    return markdown((ROOT / "config.toml").read_text(encoding="utf-8"))


if __name__ == "__main__":
    if "--update" in sys.argv:
        TARGET.write_text(current(), encoding="utf-8")
    else:
        sys.stdout.write(current())
