"""The house rules a newcomer relies on: imports run downhill, no cycles, small modules.

Every import statement counts, including those under ``TYPE_CHECKING`` and inside
functions: a back-arrow hidden in a function is still a back-arrow.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lower rank = lower layer. A package may import its own modules and lower ranks only;
# packages of the same rank (the channel edges) never import each other.
RANKS = {
    "core": 0,
    "registration": 1,
    "dialogue": 2,
    "gateways": 3,
    "smpp": 3,
    "whatsapp": 3,
    "web": 3,
    "devtools": 4,
    "ussd_server": 5,
    "bench": 6,
}
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in RANKS:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module of ours that ``name`` refers to (a module, or the package holding it)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                yield target, node.lineno


GRAPH = {m: sorted({t for t, _ in _imports(m, p)}) for m, p in MODULES.items()}


def test_imports_run_downhill() -> None:
    wrong = []
    for module, path in MODULES.items():
        source = module.split(".")[0]
        for target, line in _imports(module, path):
            other = target.split(".")[0]
            if other == source:
                continue
            if RANKS[other] >= RANKS[source]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH.get(node, []):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert not _cycles(), f"import cycles: {_cycles()}"


def test_the_checker_sees_hidden_and_relative_imports(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from dialogue.engine import Engine\n"
        "def f():\n    from ussd_server import cli\n"
    )
    path = ROOT / "registration" / "_probe_for_test.py"
    path.write_text(source, encoding="utf-8")
    try:
        seen = {t for t, _ in _imports("registration._probe_for_test", path)}
    finally:
        path.unlink()
    assert {"dialogue.engine", "ussd_server.cli"} <= seen


def test_modules_and_functions_stay_small() -> None:
    large = []
    for path in MODULES.values():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + 1
        if lines > MAX_MODULE_LINES:
            large.append(f"{path.relative_to(ROOT)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    large.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length}")
    assert not large, "too large:\n" + "\n".join(sorted(large))
