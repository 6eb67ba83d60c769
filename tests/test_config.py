"""config.toml: the shipped reference documents every key; mistakes name the key and the file."""

from __future__ import annotations

import re
import tomllib
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest
from conftest import REPO, run_cli, write_config

from digest.config import load_settings
from digest.settings import Settings
from digest.errors import ConfigError


def _setting_paths(cls, prefix="") -> set[str]:
    """Every user-facing key as a dotted path (lists of tables marked with [])."""
    paths = set()
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        if f.metadata.get("derived"):
            continue
        hint, path = hints[f.name], f"{prefix}{f.name}"
        if typing.get_origin(hint) is tuple and is_dataclass(typing.get_args(hint)[0]):
            paths |= _setting_paths(typing.get_args(hint)[0], f"{path}[].")
        elif is_dataclass(hint):
            paths |= _setting_paths(hint, f"{path}.")
        else:
            paths.add(path)
    return paths


def _present_paths(value, prefix="") -> set[str]:
    paths = set()
    if isinstance(value, dict):
        for key, item in value.items():
            paths |= _present_paths(item, f"{prefix}{key}.") if isinstance(item, (dict, list)) else {prefix + key}
            if isinstance(item, list) and item and isinstance(item[0], dict):
                for entry in item:
                    paths |= _present_paths(entry, f"{prefix}{key}[].")
            elif isinstance(item, list):
                paths.add(prefix + key)
    return paths


def test_reference_config_documents_every_setting():
    text = (REPO / "config.toml").read_text()
    present = _present_paths(tomllib.loads(text))
    expected = _setting_paths(Settings)
    assert expected - present == set(), "settings missing from config.toml"
    assert present - expected == set(), "config.toml has keys the code does not know"
    lines = text.splitlines()
    documented = set()
    for index, line in enumerate(lines):
        match = re.match(r"^(\w+)\s*=", line)
        if match:
            # A key is documented by the comment above it (a run of keys may share one).
            above = index - 1
            while above >= 0 and re.match(r"^\w+\s*=", lines[above]):
                above -= 1
            if above >= 0 and lines[above].startswith("#"):
                documented.add(match.group(1))
    undocumented = {path.rsplit(".", 1)[-1] for path in expected} - documented
    assert undocumented == set(), "keys in config.toml with no comment above them"


def test_reference_config_loads():
    settings = load_settings(REPO / "config.toml", environ={"DIGEST_SECRET_KEY": "k", "DIGEST_SMTP_PASSWORD": "p"})
    assert settings.site.secret_key == "k" and settings.delivery.smtp.password == "p"
    assert settings.newsletter("daily").sources[1].url == (REPO / "feeds/local.xml").resolve().as_uri()
    assert settings.storage.url == f"sqlite:///{REPO / 'digest.db'}"


def _config(tmp_path, **replace) -> Path:
    path = write_config(tmp_path, sources='[[newsletters.sources]]\nname = "A"\nurl = "a.xml"\n')
    text = path.read_text()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    return path


@pytest.mark.parametrize("change, message", [
    ({'timeout = 5.0': 'timeout = 5.0\ntimout = 3'}, "unknown key 'delivery.smtp.timout'"),
    ({'port = 25': 'port = "25"'}, "'delivery.smtp.port' must be an integer, not str '25'"),
    ({'name = "Test Gazette"\n': ''}, "missing required key 'site.name'"),
    ({'transport = "smtp"': 'transport = "pigeon"'}, "'delivery.transport' must be one of file, smtp, console"),
    ({'slug = "daily"': 'slug = "daily"\nschedule = "61 * * * *"'}, "'newsletters[0].schedule' is not a cron"),
    ({'slug = "daily"': 'slug = "daily"\ntimezone = "Mars/Olympus"'}, "'newsletters[0].timezone' is not an IANA"),
    ({'name = "A"': 'nme = "A"'}, "unknown key 'newsletters[0].sources[0].nme'"),
    ({'summary_sentences = 2': 'summary_sentences = true'}, "'newsletters[0].summary_sentences' must be an integer"),
    ({'[gather]': '[retention]\ndeliveries_days = 7\n\n[gather]'}, "'retention.deliveries_days' must be 0 or at "
                                                                   "least 30"),
    ({'[gather]': '[retention]\naudit_days = -1\n\n[gather]'}, "'retention.audit_days' must be 0 (keep forever)"),
])
def test_bad_config_names_the_key_and_the_file(tmp_path, change, message):
    path = _config(tmp_path, **change)
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_bad_config_exits_with_one_line_and_no_traceback(tmp_path):
    path = _config(tmp_path, **{'port = 25': 'port = "25"'})
    result = run_cli("send", "daily", config=path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("digest: error: ") and "delivery.smtp.port" in result.stderr
    assert str(path) in result.stderr and "Traceback" not in result.stderr


def test_missing_config_file_and_unknown_newsletter(tmp_path):
    result = run_cli("--config", str(tmp_path / "nope.toml"), "gather")
    assert result.returncode == 1 and "config file not found" in result.stderr and "Traceback" not in result.stderr
    path = _config(tmp_path)
    result = run_cli("send", "weekly", config=path)
    assert result.returncode == 1 and "unknown newsletter 'weekly'" in result.stderr


def test_send_without_secret_key_is_a_clear_error(tmp_path):
    path = _config(tmp_path)
    (tmp_path / "a.xml").write_text((REPO / "tests/data/wire.xml").read_text())
    result = run_cli("send", "daily", config=path, env={"DIGEST_SECRET_KEY": ""})
    assert result.returncode == 1
    assert "DIGEST_SECRET_KEY is not set" in result.stderr and "Traceback" not in result.stderr


def test_every_command_has_help():
    for command in (["--help"], ["gather", "--help"], ["preview", "--help"], ["send", "--help"],
                    ["subscribers", "--help"], ["subscribers", "add", "--help"], ["demo", "--help"]):
        result = run_cli(*command)
        assert result.returncode == 0 and "Usage:" in result.stdout, command
