"""Choosing the metrics' multiprocess directory before prometheus-client is imported.

prometheus-client decides at import time whether values live in the process or in
files shared by the processes of a host; `python -m ussd_server` calls
:func:`prepare_from_argv` first thing, so every command (serve and its workers,
sms-worker, blast run) writes where `/metrics` reads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from core.config import ConfigError, load_config
from core.settings import metrics_settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(directory: str) -> None:
    """Multiprocess mode in ``directory`` ("" = values stay in the process)."""
    if directory and MULTIPROC_ENV not in os.environ:
        Path(directory).mkdir(parents=True, exist_ok=True)
        os.environ[MULTIPROC_ENV] = str(Path(directory).resolve())


def prepare_from_argv(argv: Sequence[str]) -> None:
    """Read ``[metrics] multiproc_dir`` from the configuration the command will use."""
    path = None
    for index, arg in enumerate(argv):
        if arg == "--config" and index + 1 < len(argv):
            path = argv[index + 1]
        elif arg.startswith("--config="):
            path = arg.partition("=")[2]
    try:
        setting = metrics_settings(load_config(path)).multiproc_dir
    except ConfigError:
        return  # the command reports it properly
    prepare(str(load_config(path).resolve_path(setting)) if setting else "")
