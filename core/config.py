"""Configuration: `config.toml`, then a deployment's own file, then the environment.

`config.toml` in the repository holds every setting with its default and a
comment: it is the one place a default lives. A deployment's file
(``--config PATH`` or ``$USSD_CONFIG``) only lists what it changes; it is laid
over the defaults. Any setting can then be overridden by an environment variable
``USSD_<SECTION>_<KEY>`` (dots in nested section names become underscores), e.g.
``USSD_REDIS_URL``; the value is coerced to the type of the default, so a typo
fails loudly at start-up, not at 3 a.m.

Every package reads its sections into typed dataclasses with :meth:`Config.load`.
Those dataclasses carry no defaults of their own: a setting missing from the tree
is an error naming it, and an unknown one (a typo in a deployment's file) too.
Secrets never live in the file: a setting ``<name>_file`` names a file, and
``USSD_<SECTION>_<NAME>`` can carry the value itself (:meth:`Config.secret`).
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

from core.config_values import ConfigError, checked, limits_of

ENV_PREFIX = "USSD_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "config.toml"

T = TypeVar("T")


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
            items = [item.strip() for item in stripped.split(",") if item.strip()]
            # "6,7" for a list of numbers means [6, 7], not ["6", "7"]
            like_item = like[0] if isinstance(like, list) and like else ""
            return [_coerce(item, like_item, name) for item in items]
    except ConfigError:
        raise
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


def _merge(base: dict[str, Any], over: Mapping[str, Any], path: str = "") -> None:
    """Lay ``over`` onto ``base``: tables merge key by key, anything else replaces. A table
    config.toml does not have ([redsi], [ussd.dialects.nokia]) is a typo: its settings
    would be ignored without a word, so it is refused."""
    for key, value in over.items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, Mapping) and key not in base:
            raise ConfigError(f"unknown section [{where}] (config.toml lists every section)")
        if not path and not isinstance(value, Mapping):
            raise ConfigError(f"{key} = ...: a setting outside any [section]")
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value, where)
        else:
            base[key] = value


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _value(hint: Any, value: Any, where: str, field: dataclasses.Field[Any]) -> Any:
    """One setting checked and converted to its declared type (nested tables become
    dataclasses); see :mod:`core.config_values`."""
    if _is_dataclass_type(hint) and isinstance(value, Mapping):
        return build_settings(hint, value, where)
    if typing.get_origin(hint) in (dict, Mapping) and isinstance(value, Mapping):
        args = typing.get_args(hint)
        if len(args) == 2 and _is_dataclass_type(args[1]):
            return {k: build_settings(args[1], v, f"{where}.{k}") for k, v in value.items()}
    return checked(hint, value, where, limits_of(field))


def build_settings(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    """Build a settings dataclass from a table: every field must be there, nothing else,
    each of its declared type and within its limits (:mod:`core.config_values`)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    names = set(fields)
    missing = sorted(n for n in names if n not in data)
    if missing:
        raise ConfigError(f"[{where}] missing setting(s): {', '.join(missing)} (see config.toml)")
    # Nested tables are other sections' business; only flag unknown scalars.
    unknown = sorted(k for k in set(data) - names if not isinstance(data[k], Mapping))
    if unknown:
        raise ConfigError(f"[{where}] unknown setting(s): {', '.join(unknown)}")
    kwargs = {n: _value(hints.get(n), data[n], f"{where}.{n}", fields[n]) for n in names}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[{where}] {exc}") from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"config file is a directory, not a file: {path}") from exc
    except UnicodeDecodeError as exc:  # tomllib decodes the bytes itself
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except OSError as exc:  # unreadable (permissions, a device): every command would trace
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror or exc}") from exc


@dataclasses.dataclass
class Config:
    """The merged settings tree plus where it came from."""

    tree: dict[str, Any]
    path: Path
    environ: Mapping[str, str]
    # config.toml as shipped: what "still the default" means.
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        """The raw table (for the loader and tools; code reads typed settings via load)."""
        node: Any = self.tree
        for part in name.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, dict) else {}

    def load(self, name: str, cls: type[T]) -> T:
        """Read section ``name`` into dataclass ``cls``."""
        return build_settings(cls, self.section(name), name)

    def is_default(self, section: str, key: str) -> bool:
        """Whether ``section.key`` still has config.toml's value (nothing overrode it)."""
        node: Any = self.defaults
        for part in section.split("."):
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        return isinstance(node, Mapping) and node.get(key) == self.section(section).get(key)

    def resolve_path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else PROJECT_ROOT / path

    def secret_path(self, section: str, name: str) -> Path | None:
        """The file ``<name>_file`` names (None when the setting is empty)."""
        setting = str(self.section(section).get(f"{name}_file", "") or "")
        return self.resolve_path(setting) if setting.strip() else None

    def secret(self, section: str, name: str, *, required: bool = True) -> str | None:
        """A secret from ``USSD_<SECTION>_<NAME>``, else from the file named by ``<name>_file``.

        A secret that is set but empty (or only whitespace) is an error, never "no
        check": an empty shared secret would let anyone in.
        """
        variable = env_name(section, name)
        if variable in self.environ:
            return _non_empty(self.environ[variable], variable)
        path = self.secret_path(section, name)
        if path is not None and path.exists():
            return _non_empty(path.read_text(encoding="utf-8"), str(path))
        if required:
            raise ConfigError(
                f"secret {section}.{name} is not set: export {variable} "
                f"or write it to the file named by {section}.{name}_file "
                "(`make run` generates development secrets under var/secrets/)"
            )
        return None


def _non_empty(value: str, where: str) -> str:
    if not value.strip():
        raise ConfigError(f"secret from {where} is empty: give it a value or unset it")
    return value.strip()


def load_config(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Defaults from ``config.toml``, the deployment's file over them, then env, then
    ``overrides`` (dotted names, e.g. ``{"redis.url": "redis://..."}``: tests use it)."""
    environ = os.environ if environ is None else environ
    chosen = Path(path or environ.get("USSD_CONFIG") or DEFAULT_CONFIG_PATH)
    defaults = _read_toml(DEFAULT_CONFIG_PATH)
    tree = _read_toml(DEFAULT_CONFIG_PATH)
    if chosen.resolve() != DEFAULT_CONFIG_PATH.resolve():
        _merge(tree, _read_toml(chosen))
    _apply_env(tree, environ)
    for dotted, value in (overrides or {}).items():
        *sections, key = dotted.split(".")
        node = tree
        for part in sections:
            node = node.setdefault(part, {})
        node[key] = value
    environ_copy = types.MappingProxyType(dict(environ))
    return Config(tree=tree, path=chosen, environ=environ_copy, defaults=defaults)
