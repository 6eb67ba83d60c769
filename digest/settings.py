"""The settings as typed, immutable values: one dataclass per config.toml table, one field per key.

config.py reads the file into these and config_rules.py checks them; every
other module takes them as arguments. They live apart from the loader so the
rules and the loader both import them and neither imports the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from digest.errors import ConfigError
from digest.settings_web import (  # noqa: F401  (re-exported: callers import them from here)
    WEBHOOK_EVENTS, AdminSettings, AnalyticsSettings, ApiSettings, NewsletterAnalytics, WebhookSettings, WebSettings,
)

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
    language: str = "en"  # BCP 47 tag of the site's own pages and of every newsletter that names none
    # Resolved from the environment variable named by secret_key_env.
    secret_key: str | None = field(default=None, repr=False, metadata={"derived": True})

    def for_templates(self) -> SiteSettings:
        """What a template may see of the site: everything but the secret (templates are the operator's to
        change, perhaps by a designer; none of them needs the key that signs every reader's links)."""
        return replace(self, secret_key=None)


@dataclass(frozen=True)
class StorageSettings:
    url: str = "sqlite:///digest.db"
    # `digest status` (and the console) warn when the disk holding a SQLite database has less free than this.
    min_free_mb: int = 1024


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
class ScheduleSettings:
    grace_minutes: float = 120.0
    gather_interval_minutes: float = 30.0
    status_port: int = 8001
    # How often the leader looks for drafts to prepare, approve late, send or hold (newsletters under review).
    review_poll_seconds: float = 30.0


@dataclass(frozen=True)
class RetentionSettings:
    """How long what grows with every send is kept (0: forever); the daemon's leader prunes once a day.

    Consent events, suppressions and subscriptions are never pruned: they are the proof and the protection.
    """

    deliveries_days: int = 60  # outbox rows of sent issues (each issue keeps its counts)
    feedback_days: int = 365
    kept_mail_days: int = 90
    audit_days: int = 730
    article_text_days: int = 180  # article bodies; titles and links stay
    rate_limit_days: int = 2


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
    # Sender-side bounces (a receiving domain blocking us) never touch a reader; they count toward that
    # domain's reputation. When at least sender_side_min of one issue's deliveries to a domain came back
    # sender-side and they are sender_side_pause_share of what it sent there, the issue pauses (0: never).
    sender_side_pause_share: float = 0.2
    sender_side_min: int = 20
    # `digest status`, the console and /metrics show each receiving domain over this many hours.
    reputation_window_hours: float = 24.0


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
    # Within a section, stories more sources carry rank first (then the newest); off: newest first (compose).
    rank_by_sources: bool = False
    sections: tuple[SectionSettings, ...] = ()
    # Editorial review: "optional" drafts the issue review_lead_minutes before its slot and sends it as it
    # stands; "required" sends it only once an editor has approved it (held after the grace period).
    review: str = field(default="off", metadata={"choices": REVIEW_MODES})
    review_lead_minutes: float = 60.0
    # The weekly roundup (cron, in `timezone`; "" for none): the week's issues' top items per section, to the
    # readers who chose it instead of every issue.
    roundup_schedule: str = ""
    roundup_items: int = 3  # per section
    analytics: NewsletterAnalytics = field(default_factory=NewsletterAnalytics)
    language: str = ""  # BCP 47: every word its readers see; "": site.language (config.py fills it in)
    # The operator's own wording of reader-facing texts: [msgid as in digest/locale/digest.pot, text] pairs.
    texts: tuple[tuple[str, ...], ...] = ()


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
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    summarize: SummarizeSettings = field(default_factory=SummarizeSettings)
    render: RenderSettings = field(default_factory=RenderSettings)
    dkim: DkimSettings = field(default_factory=DkimSettings)
    bounces: BounceSettings = field(default_factory=BounceSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    webhooks: tuple[WebhookSettings, ...] = ()
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    config_path: Path = field(default=Path("config.toml"), metadata={"derived": True})

    def newsletter(self, slug: str) -> NewsletterSettings:
        for newsletter in self.newsletters:
            if newsletter.slug == slug:
                return newsletter
        known = ", ".join(n.slug for n in self.newsletters)
        raise ConfigError(f"unknown newsletter {slug!r} in {self.config_path}", hint=f"known: {known}")


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
