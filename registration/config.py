"""Configuration: `config.toml`, then environment overrides, then explicit overrides.

Every setting lives in `config.toml` with its default and a comment, so the file
is the reference. Any setting can be overridden by an environment variable named
``USSD_<SECTION>_<KEY>`` (dots in nested section names become underscores), e.g.
``USSD_REDIS_URL`` or ``USSD_HTTP_PORT``. The override is coerced to the type of
the default in the file, so a typo fails loudly at start-up, not at 3 a.m.

Packages read their own section into a typed dataclass with :func:`Config.load`.
Secrets (signing keys, API tokens) never live in the file: a setting named
``<name>_file`` points at a file, and ``USSD_<SECTION>_<NAME>`` can carry the
value itself; :func:`Config.secret` resolves them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

ENV_PREFIX = "USSD_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config.toml"

T = TypeVar("T")


class ConfigError(ValueError):
    """A setting is missing, has the wrong type, or a secret cannot be found."""


def env_name(section: str, key: str) -> str:
    return ENV_PREFIX + f"{section}_{key}".replace(".", "_").replace("-", "_").upper()


def _coerce(raw: str, like: Any, name: str) -> Any:
    """Turn an environment string into the type of the file's default."""
    try:
        if isinstance(like, bool):
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if isinstance(like, int):
            return int(raw)
        if isinstance(like, float):
            return float(raw)
        if isinstance(like, list | dict):
            stripped = raw.strip()
            if stripped.startswith(("[", "{")):
                return json.loads(stripped)
            return [item.strip() for item in stripped.split(",") if item.strip()]
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}: expected {type(like).__name__}") from exc
    return raw


def _apply_env(tree: dict[str, Any], environ: Mapping[str, str], path: str = "") -> None:
    for key, value in tree.items():
        if isinstance(value, dict):
            _apply_env(value, environ, f"{path}.{key}" if path else key)
        elif path:
            name = env_name(path, key)
            if name in environ:
                tree[key] = _coerce(environ[name], value, name)


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _build(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    """Build a dataclass from a mapping, recursing into nested dataclasses."""
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name not in data:
            continue
        value = data[field.name]
        hint = hints.get(field.name)
        if _is_dataclass_type(hint) and isinstance(value, Mapping):
            value = _build(hint, value, f"{where}.{field.name}")
        elif typing.get_origin(hint) in (dict, Mapping) and isinstance(value, Mapping):
            args = typing.get_args(hint)
            if len(args) == 2 and _is_dataclass_type(args[1]):
                value = {
                    k: _build(args[1], v, f"{where}.{field.name}.{k}") for k, v in value.items()
                }
        elif hint is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif hint is tuple or typing.get_origin(hint) is tuple:
            value = tuple(value)
        kwargs[field.name] = value
    unknown = set(data) - {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    # Nested tables are other sections' business; only flag unknown scalars.
    unknown = {k for k in unknown if not isinstance(data[k], Mapping)}
    if unknown:
        raise ConfigError(f"[{where}] unknown setting(s): {', '.join(sorted(unknown))}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"[{where}] {exc}") from exc


@dataclasses.dataclass
class Config:
    """The merged settings tree plus where it came from."""

    tree: dict[str, Any]
    path: Path
    environ: Mapping[str, str]

    def section(self, name: str) -> dict[str, Any]:
        node: Any = self.tree
        for part in name.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}

    def load(self, name: str, cls: type[T]) -> T:
        """Read section ``name`` into dataclass ``cls`` (missing keys keep defaults)."""
        return _build(cls, self.section(name), name)

    def resolve_path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else PROJECT_ROOT / path

    def secret(self, section: str, name: str, *, required: bool = True) -> str | None:
        """A secret from ``USSD_<SECTION>_<NAME>``, else from the file named by ``<name>_file``."""
        direct = self.environ.get(env_name(section, name))
        if direct:
            return direct.strip()
        file_setting = self.section(section).get(f"{name}_file", "")
        if file_setting:
            path = self.resolve_path(file_setting)
            if path.exists():
                return path.read_text(encoding="utf-8").strip()
        if required:
            raise ConfigError(
                f"secret {section}.{name} is not set: export {env_name(section, name)} "
                f"or write it to the file named by {section}.{name}_file "
                "(`make run` generates development secrets under var/secrets/)"
            )
        return None


def load_config(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Load ``config.toml`` (or ``path``, or ``$USSD_CONFIG``), apply env then ``overrides``.

    ``overrides`` maps dotted names to values, e.g. ``{"redis.url": "redis://..."}``;
    tests use it to point a server at their own Redis database.
    """
    environ = os.environ if environ is None else environ
    chosen = Path(path or environ.get("USSD_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        with chosen.open("rb") as handle:
            tree = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {chosen}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{chosen}: {exc}") from exc
    _apply_env(tree, environ)
    for dotted, value in (overrides or {}).items():
        *sections, key = dotted.split(".")
        node = tree
        for part in sections:
            node = node.setdefault(part, {})
        node[key] = value
    return Config(tree=tree, path=chosen, environ=types.MappingProxyType(dict(environ)))
