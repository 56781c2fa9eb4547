"""The README's configuration reference is the one config.toml describes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _config_reference():
    spec = importlib.util.spec_from_file_location(
        "config_reference", ROOT / "scripts" / "config_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_config_reference_is_up_to_date() -> None:
    ref = _config_reference()
    table = ref.markdown((ROOT / "config.toml").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ref.START in readme, "README.md lacks the config reference markers"
    assert ref.embed(readme, table) == readme, "README config reference is stale: run `make docs`"
