"""config.toml -> typed, immutable settings.

This is the only module that reads configuration (the file and the secret
environment variables). Entry points call `load_settings()` once and pass the
result down; nothing below them reads config on its own, so tests can build
settings in memory and every stage stays a plain function of its inputs.

Every dataclass field of settings.py is a TOML key of the same name. Unknown
keys, wrong types and missing required keys raise ConfigError naming the key
and the file, because a typo that silently falls back to a default is the worst
kind of bug in a tool that mails thousands of people; config_rules.py then
checks what spans keys.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
from dataclasses import MISSING, fields, is_dataclass, replace
from pathlib import Path

from digest.config_rules import check_settings
from digest.errors import ConfigError
from digest.settings import Settings


def load_settings(path: str | os.PathLike[str], environ: typing.Mapping[str, str] | None = None) -> Settings:
    """Read and validate config.toml; secrets come from `environ` (default os.environ)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}", hint="pass --config or set DIGEST_CONFIG") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return settings_from_dict(raw, path, os.environ if environ is None else environ)


def settings_from_dict(raw: dict, path: Path, environ: typing.Mapping[str, str]) -> Settings:
    settings = _build(Settings, raw, "", path)
    check_settings(settings, path)
    base = path.resolve().parent
    site = settings.site
    smtp = settings.delivery.smtp
    return replace(
        settings,
        config_path=path,
        site=replace(site, secret_key=environ.get(site.secret_key_env) or None),
        storage=replace(settings.storage, url=_resolve_sqlite_url(settings.storage.url, base)),
        delivery=replace(
            settings.delivery,
            outbox_dir=str(base / settings.delivery.outbox_dir),
            processes=settings.delivery.processes or default_processes(),
            smtp=replace(smtp, password=environ.get(smtp.password_env) or None),
        ),
        summarize=replace(settings.summarize, llm_api_key=environ.get(settings.summarize.llm_api_key_env) or None),
        render=replace(settings.render, templates_dir=str(base / settings.render.templates_dir)
                       if settings.render.templates_dir else ""),
        dkim=replace(settings.dkim, private_key=environ.get(settings.dkim.private_key_env) or None,
                     ed25519_private_key=environ.get(settings.dkim.ed25519_private_key_env) or None),
        webhooks=tuple(replace(w, secret=environ.get(w.secret_env) or None) for w in settings.webhooks),
        newsletters=tuple(
            replace(n, sources=tuple(replace(s, url=resolve_source_url(s.url, base)) for s in n.sources),
                    language=n.language or site.language)
            for n in settings.newsletters
        ),
    )


def default_processes() -> int:
    """One sender process per core this process may run on, SQLite included: its single writer lock
    still leaves room. bench/send.py on 2 cores with the sink on the same cores: 2 processes 1.14x one with
    DKIM on, 0.95x with DKIM off (there the sink needs the second core)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def resolve_source_url(url: str, base: Path) -> str:
    """http(s) and file URLs stay; anything else is a path relative to the config file."""
    if re.match(r"^(https?|file)://", url):
        return url
    return (base / url).resolve().as_uri()


def _resolve_sqlite_url(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        return prefix + str(base / url[len(prefix):])
    return url


def _build(cls, raw, where: str, path: Path):
    """Turn one TOML table into dataclass `cls`, rejecting unknown/missing keys."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {where or 'top level'} must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if not f.metadata.get("derived")}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{path}: unknown key {_join(where, key)!r}", hint=f"allowed here: {', '.join(known)}")
    values = {}
    for name, f in known.items():
        key = _join(where, name)
        if name not in raw:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{path}: missing required key {key!r}")
            continue
        value = _convert(hints[name], raw[name], key, path)
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{path}: {key!r} must be one of {', '.join(choices)}, not {value!r}")
        values[name] = value
    return cls(**values)


def _convert(hint, value, key: str, path: Path):
    origin = typing.get_origin(hint)
    if is_dataclass(hint):
        return _build(hint, value, key, path)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{path}: {key!r} must be a list")
        return tuple(_convert(item_type, item, f"{key}[{i}]", path) for i, item in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: {key!r} must be {_type_name(hint)}, not {type(value).__name__} {value!r}")
    return value


def _type_name(hint) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(hint, str(hint))


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


__all__ = ["default_processes", "load_settings", "resolve_source_url", "settings_from_dict"]
