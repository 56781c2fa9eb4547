"""Choosing the metrics' multiprocess directory before prometheus-client is imported.

prometheus-client decides at import time whether values live in the process or in
files shared by the processes of a host; `python -m ussd_server` calls
:func:`prepare_from_argv` first thing, so the long-running commands (serve and its
workers, sms-worker, blast run, and dev, which starts them) write where `/metrics`
reads. Every other command (status, import, blast start...) keeps its values in the
process: nobody scrapes them, and each run used to leave its files behind until the
next `serve` start; thousands of them made every scrape slow.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from core.config import ConfigError, load_config
from core.settings import metrics_settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# (command, its subcommand or None for any) whose metrics /metrics shows.
SCRAPED_COMMANDS = {("serve", None), ("sms-worker", None), ("blast", "run"), ("dev", None)}


def prepare(directory: str) -> None:
    """Multiprocess mode in ``directory`` ("" = values stay in the process)."""
    if directory and MULTIPROC_ENV not in os.environ:
        Path(directory).mkdir(parents=True, exist_ok=True)
        os.environ[MULTIPROC_ENV] = str(Path(directory).resolve())


def _words(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """The ``--config`` path and the words that are not options (command first)."""
    path, words, skip = None, [], False
    for index, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg == "--config":
            path, skip = (argv[index + 1] if index + 1 < len(argv) else None), True
        elif arg.startswith("--config="):
            path = arg.partition("=")[2]
        elif not arg.startswith("-"):
            words.append(arg)
    return path, words


def is_scraped(words: Sequence[str]) -> bool:
    command = words[0] if words else ""
    sub = words[1] if len(words) > 1 else ""
    return (command, None) in SCRAPED_COMMANDS or (command, sub) in SCRAPED_COMMANDS


def prepare_from_argv(argv: Sequence[str]) -> None:
    """Read ``[metrics] multiproc_dir`` from the configuration the command will use,
    for a command whose metrics are scraped; any other keeps its values in the process
    (even when the environment names a directory)."""
    path, words = _words(argv)
    if not is_scraped(words):
        os.environ.pop(MULTIPROC_ENV, None)
        return
    try:
        setting = metrics_settings(load_config(path)).multiproc_dir
    except ConfigError:
        return  # the command reports it properly
    prepare(str(load_config(path).resolve_path(setting)) if setting else "")
