"""Development secrets for `make run`: generated once, kept under var/secrets/.

Production deployments provide them through the environment or their own files
(see the `*_file` settings in config.toml); nothing secret is ever committed.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from core.config import Config

# (section, name) of every secret the service reads.
SECRETS = (("tickets", "signing_key"), ("operator_api", "token"), ("web", "csrf_secret"))


def ensure_dev_secrets(config: Config) -> list[Path]:
    """Create missing secret files named by `<name>_file`; returns the files created."""
    created: list[Path] = []
    for section, name in SECRETS:
        if config.secret(section, name, required=False):
            continue
        path = config.secret_path(section, name)
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
        os.chmod(path, 0o600)
        created.append(path)
    return created
