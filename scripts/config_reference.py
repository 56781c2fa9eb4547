"""The configuration reference (markdown), made from config.toml's own comments.

    .venv/bin/python scripts/config_reference.py            # print it
    .venv/bin/python scripts/config_reference.py --update   # rewrite it in README.md (make docs)

README.md embeds it between two markers; `tests/test_docs.py` checks it is up to
date, so the settings file and the docs cannot drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rows(text: str) -> list[tuple[str, str, str, str]]:
    """(section, key, default, description) for every setting, in file order."""
    out: list[tuple[str, str, str, str]] = []
    section, comment, in_array = "", [], False
    after_setting = False  # a comment after a setting starts the next one's description
    for raw in text.splitlines():
        line = raw.strip()
        if in_array:
            in_array = not line.startswith("]")
            continue
        if not line:
            comment = []
        elif line.startswith("#"):
            if after_setting:
                comment, after_setting = [], False
            comment.append(line.lstrip("#").strip())
        elif line.startswith("["):
            section, comment, after_setting = line.strip("[]"), [], False
        elif "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            if value.startswith("[") and not value.endswith("]"):
                in_array, value = True, "[...]"
            out.append((section, key, value, " ".join(comment)))
            after_setting = True
    return out


def markdown(text: str) -> str:
    lines = [
        "| setting | environment variable | default | meaning |",
        "|---|---|---|---|",
    ]
    for section, key, default, description in rows(text):
        env = "USSD_" + f"{section}_{key}".replace(".", "_").upper()
        cell = default.replace("|", "\\|")
        lines.append(f"| `{section}.{key}` | `{env}` | `{cell}` | {description} |")
    return "\n".join(lines) + "\n"


START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def embed(readme: str, table: str) -> str:
    """README text with the table between the markers replaced."""
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}{END}{tail}"


if __name__ == "__main__":
    table = markdown((ROOT / "config.toml").read_text(encoding="utf-8"))
    if "--update" in sys.argv:
        readme = ROOT / "README.md"
        readme.write_text(embed(readme.read_text(encoding="utf-8"), table), encoding="utf-8")
    else:
        sys.stdout.write(table)
