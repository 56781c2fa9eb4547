"""The docs stay true: the configuration reference is config.toml's, and links resolve."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _config_reference():
    spec = importlib.util.spec_from_file_location(
        "config_reference", ROOT / "scripts" / "config_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_setting_has_its_own_comment() -> None:
    ref = _config_reference()
    settings = ref.rows((ROOT / "config.toml").read_text(encoding="utf-8"))
    undocumented = [f"{section}.{key}" for section, key, _, text in settings if not text]
    assert settings and not undocumented, f"settings without a comment: {undocumented}"


def test_configuration_reference_is_up_to_date() -> None:
    ref = _config_reference()
    written = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert written == ref.current(), "docs/configuration.md is stale: run `make docs`"


def test_readme_and_docs_links_point_to_files_that_exist() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.name} -> {target}")
    assert not broken, broken
