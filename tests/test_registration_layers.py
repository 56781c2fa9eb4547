"""The registration package's imports: downhill only, and its rules free of Redis."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "registration"
ABOVE = ("dialogue", "gateways", "smpp", "ussd_server", "devtools", "bench", "tests")
REDIS = ("redis", "hiredis", "core.redis_lean", "core.redis_wire", "core.redis_bulk")
REDIS += ("core.redis_scripts", "core.redis_client", "registration.redis_")


def imports(path: Path, *, runtime_only: bool) -> set[str]:
    """Every module ``path`` imports (inside functions too; ``if TYPE_CHECKING`` blocks
    left out when ``runtime_only``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
                skipped |= {id(n) for n in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    return found


def test_registration_imports_nothing_above_it() -> None:
    for path in PACKAGE.glob("*.py"):
        wrong = {m for m in imports(path, runtime_only=False) if m.split(".")[0] in ABOVE}
        assert not wrong, f"{path.name} imports {sorted(wrong)}"


def test_only_the_redis_stores_use_redis() -> None:
    """Rules, memory stores and interfaces never touch Redis; the facade only wires it up
    (`Registry.from_config` builds the Redis stores)."""
    allowed = {
        "service.py": {"registration.redis_stores", "registration.redis_stores.redis_stores"}
    }
    for path in PACKAGE.glob("*.py"):
        if path.name.startswith("redis_") or path.name == "keys.py":
            continue
        found = imports(path, runtime_only=True) - allowed.get(path.name, set())
        wrong = {m for m in found if m.startswith(REDIS)}
        assert not wrong, f"{path.name} imports {sorted(wrong)}"
