"""config.toml -> typed, immutable settings.

This is the only module that reads configuration (the file and the two secret
environment variables). Entry points call `load_settings()` once and pass the
result down; nothing below them reads config on its own, so tests can build
settings in memory and every stage stays a plain function of its inputs.

Every dataclass field is a TOML key of the same name. Unknown keys, wrong
types and missing required keys raise ConfigError naming the key and the file,
because a typo that silently falls back to a default is the worst kind of bug
in a tool that mails thousands of people.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path

from digest.errors import ConfigError

TRANSPORTS = ("file", "smtp", "console")
SUMMARIZERS = ("extractive", "llm")
TLS_MODES = ("none", "starttls", "implicit")
SOURCE_KINDS = ("feed", "html")
REVIEW_MODES = ("off", "optional", "required")
OPERATOR_ROLES = ("admin", "editor")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class SiteSettings:
    name: str
    base_url: str
    postal_address: str
    unsubscribe_mailbox: str
    secret_key_env: str = "DIGEST_SECRET_KEY"
    # Sender id for the Feedback-ID header (Gmail's feedback loop); empty: no header.
    feedback_id: str = ""
    # Resolved from the environment variable named by secret_key_env.
    secret_key: str | None = field(default=None, repr=False, metadata={"derived": True})


@dataclass(frozen=True)
class StorageSettings:
    url: str = "sqlite:///digest.db"


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    tls: str = field(default="none", metadata={"choices": TLS_MODES})
    user: str = ""
    password_env: str = "DIGEST_SMTP_PASSWORD"
    timeout: float = 30.0
    password: str | None = field(default=None, repr=False, metadata={"derived": True})


@dataclass(frozen=True)
class DeliverySettings:
    transport: str = field(default="file", metadata={"choices": TRANSPORTS})
    outbox_dir: str = "outbox"
    # Deliveries claimed per lease: a claim and its commit cost about 1.5 ms whatever the size, a
    # twentieth of a second of sending at 50 (bench/README.md, issue 17); feeding stays message by message.
    batch_size: int = 500
    connections: int = 4
    # Sender processes of one `digest send` or `digest worker`; 0: one per core.
    processes: int = 0
    max_per_second: float = 0.0
    max_per_hour: int = 0
    max_attempts: int = 5
    retry_base_seconds: float = 30.0
    max_consecutive_failures: int = 100
    lease_seconds: int = 120
    smtp: SmtpSettings = field(default_factory=SmtpSettings)


@dataclass(frozen=True)
class GatherSettings:
    timeout: float = 10.0
    user_agent: str = "digest/0.1 (self-hosted newsletter digest)"
    max_bytes: int = 10_000_000
    first_run_max_items: int = 5
    first_run_max_age_days: int = 7
    max_concurrency: int = 8
    per_host_concurrency: int = 2
    max_pages_per_source: int = 20
    deadline: float = 30.0
    max_entries: int = 500
    max_page_bytes: int = 3_000_000
    allow_networks: tuple[str, ...] = ()
    allow_ports: tuple[int, ...] = (80, 443)


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = 16_384
    token_ttl_hours: int = 48
    signups_per_ip_per_hour: int = 20
    confirmations_per_address_per_hour: int = 3
    confirmations_per_hour: int = 500
    ops_allowed_ips: tuple[str, ...] = ("127.0.0.1", "::1")
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdminSettings:
    """The operator's console at /admin."""

    enabled: bool = True
    session_hours: float = 12.0  # a login lasts at most this long...
    idle_minutes: float = 60.0  # ...and ends after this long without a request
    # Login attempts per window, counted in the database (every web process shares them).
    login_attempts_per_account: int = 10
    login_attempts_per_network: int = 30
    login_window_minutes: float = 15.0


@dataclass(frozen=True)
class ScheduleSettings:
    grace_minutes: float = 120.0
    gather_interval_minutes: float = 30.0
    status_port: int = 8001
    # How often the leader looks for drafts to prepare, approve late, send or hold (newsletters under review).
    review_poll_seconds: float = 30.0


@dataclass(frozen=True)
class SummarizeSettings:
    backend: str = field(default="extractive", metadata={"choices": SUMMARIZERS})
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key_env: str = "DIGEST_LLM_API_KEY"
    llm_timeout: float = 30.0
    llm_max_concurrency: int = 4
    llm_prompt: str = ""
    llm_api_key: str | None = field(default=None, repr=False, metadata={"derived": True})


@dataclass(frozen=True)
class RenderSettings:
    templates_dir: str = ""
    html_budget_bytes: int = 90_000


@dataclass(frozen=True)
class DkimSettings:
    selector: str = ""
    domain: str = ""
    private_key_env: str = "DIGEST_DKIM_PRIVATE_KEY"
    # A second signature, ed25519-sha256 (RFC 8463), under its own selector; empty: RSA only.
    ed25519_selector: str = ""
    ed25519_private_key_env: str = "DIGEST_DKIM_ED25519_PRIVATE_KEY"
    private_key: str | None = field(default=None, repr=False, metadata={"derived": True})
    ed25519_private_key: str | None = field(default=None, repr=False, metadata={"derived": True})


@dataclass(frozen=True)
class BounceSettings:
    """Where bounces and complaints come back, and what they do (issue 15).

    With `domain` set, every message leaves with a signed per-delivery
    envelope sender (VERP) at that domain, and `digest inbound` accepts mail
    for those addresses and for site.unsubscribe_mailbox only.
    """

    domain: str = ""
    local_part: str = "bounces"
    listen_host: str = "127.0.0.1"
    listen_port: int = 2525
    # Also run the listener inside `digest run` (one process for everything).
    in_daemon: bool = False
    max_message_bytes: int = 2_000_000
    max_messages_per_connection: int = 100
    max_connections: int = 50
    # Soft bounces (4.x.x, mailbox full, policy blocks) add one point per day at most; the score is
    # forgotten after soft_window_days without one; at soft_threshold the address is suppressed
    # (Mailman's bounce_score_threshold and bounce_info_stale_after).
    soft_threshold: float = 5.0
    soft_window_days: float = 7.0


@dataclass(frozen=True)
class SourceSettings:
    name: str
    url: str
    category: str = ""
    priority: int = 0
    kind: str = field(default="feed", metadata={"choices": SOURCE_KINDS})
    link_pattern: str = ""
    full_text: bool = False
    min_interval_minutes: float = 0.0


@dataclass(frozen=True)
class SectionSettings:
    title: str
    sources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    max_items: int = 0


@dataclass(frozen=True)
class NewsletterSettings:
    slug: str
    title: str
    from_address: str
    sources: tuple[SourceSettings, ...]
    description: str = ""
    schedule: str = "0 7 * * *"
    timezone: str = "UTC"
    max_items: int = 20
    carry_over_hours: float = 48.0
    summary_sentences: int = 3
    welcome_email: bool = False
    reply_to: str = ""
    top_stories: int = 0
    top_stories_title: str = "Top stories"
    sections: tuple[SectionSettings, ...] = ()
    # Editorial review: "optional" drafts the issue review_lead_minutes before its slot and sends it as it
    # stands; "required" sends it only once an editor has approved it (held after the grace period).
    review: str = field(default="off", metadata={"choices": REVIEW_MODES})
    review_lead_minutes: float = 60.0


@dataclass(frozen=True)
class Settings:
    site: SiteSettings
    newsletters: tuple[NewsletterSettings, ...]
    storage: StorageSettings = field(default_factory=StorageSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    gather: GatherSettings = field(default_factory=GatherSettings)
    web: WebSettings = field(default_factory=WebSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    summarize: SummarizeSettings = field(default_factory=SummarizeSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    dkim: DkimSettings = field(default_factory=DkimSettings)
    bounces: BounceSettings = field(default_factory=BounceSettings)
    config_path: Path = field(default=Path("config.toml"), metadata={"derived": True})

    def newsletter(self, slug: str) -> NewsletterSettings:
        for newsletter in self.newsletters:
            if newsletter.slug == slug:
                return newsletter
        known = ", ".join(n.slug for n in self.newsletters)
        raise ConfigError(f"unknown newsletter {slug!r} in {self.config_path}", hint=f"known: {known}")


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
    from digest.config_rules import check_settings  # it reads these dataclasses: imported when used

    check_settings(settings, path)
    base = path.resolve().parent
    site = settings.site
    smtp = settings.delivery.smtp
    return replace(
        settings,
        config_path=path,
        site=replace(site, secret_key=environ.get(site.secret_key_env) or None),
        storage=StorageSettings(url=_resolve_sqlite_url(settings.storage.url, base)),
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
        newsletters=tuple(
            replace(n, sources=tuple(replace(s, url=resolve_source_url(s.url, base)) for s in n.sources))
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


def make_trigger(expression: str, zone):
    """Five cron fields (minute hour day month weekday), or six with seconds first."""
    from apscheduler.triggers.cron import CronTrigger

    fields_ = expression.split()
    if len(fields_) == 5:
        return CronTrigger.from_crontab(expression, timezone=zone)
    if len(fields_) == 6:
        second, minute, hour, day, month, day_of_week = fields_
        return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                           day_of_week=day_of_week, timezone=zone)
    raise ValueError(f"wrong number of fields; got {len(fields_)}, expected 5 (or 6 with seconds first)")
