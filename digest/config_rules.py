"""The rules of config.toml that span keys or need more than a type check.

config.py turns the file into the typed settings of settings.py; these checks then refuse what
would only fail later (a bad cron, an unknown section source, a port or CIDR
that is not one), each with one line naming the key and the file.
"""

from __future__ import annotations

import ipaddress
import re
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import read_mo

from digest.errors import ConfigError
from digest.settings import (SLUG_RE, WEBHOOK_EVENTS, GatherSettings, NewsletterSettings, Settings, SourceSettings,
                             make_trigger)


def check_settings(settings: Settings, path: Path) -> None:
    """Rules that span keys or need more than a type check."""
    if not re.match(r"^https?://[^/\s]+", settings.site.base_url):
        raise ConfigError(f"{path}: 'site.base_url' must be an http(s) URL, not {settings.site.base_url!r}")
    if "@" not in settings.site.unsubscribe_mailbox:
        raise ConfigError(f"{path}: 'site.unsubscribe_mailbox' must be an email address")
    if not settings.newsletters:
        raise ConfigError(f"{path}: at least one [[newsletters]] table is required")
    slugs = [n.slug for n in settings.newsletters]
    _check_language(settings.site.language, "site.language", path)
    for i, newsletter in enumerate(settings.newsletters):
        _check_newsletter(newsletter, f"newsletters[{i}]", path)
        if newsletter.language:
            _check_language(newsletter.language, f"newsletters[{i}].language", path)
        _check_texts(newsletter.texts, f"newsletters[{i}].texts", path)
        if slugs.count(newsletter.slug) > 1:
            raise ConfigError(f"{path}: newsletter slug {newsletter.slug!r} is used twice")
    for section, key in (("delivery", "batch_size"), ("delivery", "connections"), ("delivery", "max_attempts"),
                         ("delivery", "max_consecutive_failures"), ("delivery", "lease_seconds"),
                         ("summarize", "llm_max_concurrency"), ("gather", "max_concurrency"),
                         ("gather", "per_host_concurrency"), ("gather", "max_entries"), ("gather", "max_page_bytes"),
                         ("schedule", "status_port"), ("render", "html_budget_bytes"),
                         ("web", "max_body_bytes"), ("web", "token_ttl_hours"),
                         ("web", "signups_per_ip_per_hour"), ("web", "confirmations_per_address_per_hour"),
                         ("web", "confirmations_per_hour"), ("admin", "login_attempts_per_account"),
                         ("admin", "login_attempts_per_network")):
        if getattr(getattr(settings, section), key) < 1:
            raise ConfigError(f"{path}: '{section}.{key}' must be at least 1")
    if settings.delivery.processes < 0:
        raise ConfigError(f"{path}: 'delivery.processes' must be 0 (one per core) or more")
    if settings.gather.max_pages_per_source < 0:
        raise ConfigError(f"{path}: 'gather.max_pages_per_source' must be 0 or more")
    if settings.summarize.backend == "llm" and not (settings.summarize.llm_base_url and settings.summarize.llm_model):
        raise ConfigError(f"{path}: summarize.backend = \"llm\" needs 'summarize.llm_base_url' and 'summarize.llm_model'")
    if bool(settings.dkim.selector) != bool(settings.dkim.domain):
        raise ConfigError(f"{path}: 'dkim.selector' and 'dkim.domain' go together: set both or neither")
    if settings.dkim.ed25519_selector and not settings.dkim.selector:
        raise ConfigError(f"{path}: 'dkim.ed25519_selector' is a second signature beside the RSA one: "
                          "set 'dkim.selector' and 'dkim.domain' too")
    _check_fetch_policy(settings.gather, path)
    _check_webhooks(settings, path)
    if settings.schedule.review_poll_seconds <= 0:
        raise ConfigError(f"{path}: 'schedule.review_poll_seconds' must be above 0")
    admin = settings.admin
    if min(admin.session_hours, admin.idle_minutes, admin.login_window_minutes) <= 0:
        raise ConfigError(f"{path}: 'admin.session_hours', 'admin.idle_minutes' and 'admin.login_window_minutes' "
                          "must be above 0")
    if admin.test_copies_per_hour < 0:
        raise ConfigError(f"{path}: 'admin.test_copies_per_hour' must be 0 (no test copies) or more")
    for entry in admin.test_copy_addresses:
        if not re.match(r"^[^@\s]*@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", entry):
            raise ConfigError(f"{path}: 'admin.test_copy_addresses' entries are addresses or @domain, not {entry!r}")
    smtp = settings.delivery.smtp
    if smtp.user and smtp.tls == "none" and smtp.host not in ("127.0.0.1", "::1", "localhost"):
        raise ConfigError(f"{path}: 'delivery.smtp.user' is set with tls = \"none\": the password would cross the "
                          f"network in clear to {smtp.host}", hint='set delivery.smtp.tls = "starttls" or "implicit"')
    _check_networks(settings.web.trusted_proxies, "web.trusted_proxies", path)
    _check_bounces(settings.bounces, path)
    _check_retention(settings, path)
    if settings.analytics.retention_days < 0:
        raise ConfigError(f"{path}: 'analytics.retention_days' must be 0 (keep every click row) or a number of days")
    for origin in settings.web.allowed_origins:
        if not re.match(r"^https?://[^/\s]+$", origin):
            raise ConfigError(f"{path}: 'web.allowed_origins' entries look like https://example.org, not {origin!r}")


def _check_language(tag: str, key: str, path: Path) -> None:
    """A tag Babel has data for: its dates, numbers and plural rules are what a reader sees."""
    try:
        Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise ConfigError(f"{path}: '{key}' is not a language tag Babel knows: {tag!r}",
                          hint='a BCP 47 tag such as "en", "uk", "de", "pt-BR"') from None


def _check_texts(texts: tuple[tuple[str, ...], ...], key: str, path: Path) -> None:
    """Each own wording replaces a text we have (a typo would silently change nothing) and fills the same
    placeholders (a missing one would raise, or drop a link's words, at send time)."""
    if not texts:
        return
    with open(Path(__file__).resolve().parent / "locale" / "en" / "LC_MESSAGES" / "digest.mo", "rb") as mo:
        known = read_mo(mo)
    for msgid, *rest in texts:
        text = rest[0] if len(rest) == 1 else None
        if text is None or not text.strip():
            raise ConfigError(f"{path}: '{key}' takes pairs: [\"the English text\", \"your wording\"]")
        if not msgid or msgid not in known:
            raise ConfigError(f"{path}: '{key}': no such text: {msgid!r}",
                              hint="copy it from digest/locale/digest.pot (msgid), placeholders and all")
        names = set(re.findall(r"%\((\w+)\)s", " ".join(known[msgid].id if known[msgid].pluralizable else [msgid])))
        if set(re.findall(r"%\((\w+)\)s", text)) != names or "%" in re.sub(r"%\(\w+\)s", "", text):
            raise ConfigError(f"{path}: '{key}': {text!r} must fill exactly {', '.join(sorted(names)) or 'nothing'} "
                              "(as %(name)s) and hold no other %")


def _check_bounces(bounces, path: Path) -> None:
    if bounces.domain and not re.match(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", bounces.domain):
        raise ConfigError(f"{path}: 'bounces.domain' must be a domain name like bounces.example.org")
    if not re.match(r"^[a-z0-9][a-z0-9_-]{0,40}$", bounces.local_part):
        raise ConfigError(f"{path}: 'bounces.local_part' must be lower-case letters, digits, '-' or '_' "
                          "(the delivery's tag follows a '+')")
    for key in ("max_message_bytes", "max_messages_per_connection", "max_connections", "listen_port"):
        if getattr(bounces, key) < 1:
            raise ConfigError(f"{path}: 'bounces.{key}' must be at least 1")
    if not 0 <= bounces.sender_side_pause_share <= 1 or bounces.sender_side_min < 1 \
            or bounces.reputation_window_hours <= 0:
        raise ConfigError(f"{path}: 'bounces.sender_side_pause_share' must be between 0 and 1, "
                          "'bounces.sender_side_min' at least 1 and 'bounces.reputation_window_hours' above 0")
    if bounces.soft_threshold <= 0 or bounces.soft_window_days <= 0:
        raise ConfigError(f"{path}: 'bounces.soft_threshold' and 'bounces.soft_window_days' must be above 0")


def _check_retention(settings: Settings, path: Path) -> None:
    retention = settings.retention
    for key, days in vars(retention).items():
        if days < 0:
            raise ConfigError(f"{path}: 'retention.{key}' must be 0 (keep forever) or a number of days")
    for key in ("deliveries_days", "feedback_days"):
        if 0 < getattr(retention, key) < 30:
            raise ConfigError(f"{path}: 'retention.{key}' must be 0 or at least 30: the complaint rate counts "
                              "the messages and complaints of the last 30 days")
    if settings.storage.min_free_mb < 0:
        raise ConfigError(f"{path}: 'storage.min_free_mb' must be 0 (no warning) or more")


def _check_networks(networks: tuple[str, ...], key: str, path: Path) -> None:
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ConfigError(f"{path}: '{key}' takes addresses or CIDRs like 10.1.0.0/16: {exc}") from None


def _check_fetch_policy(gather: GatherSettings, path: Path) -> None:
    if gather.timeout <= 0 or gather.deadline < gather.timeout:
        raise ConfigError(f"{path}: 'gather.deadline' must be at least 'gather.timeout' (and both above 0)")
    _check_networks(gather.allow_networks, "gather.allow_networks", path)
    if not all(1 <= port <= 65535 for port in gather.allow_ports):
        raise ConfigError(f"{path}: 'gather.allow_ports' holds port numbers (1-65535)")


def _check_webhooks(settings: Settings, path: Path) -> None:
    api = settings.api
    _check_networks(api.webhook_allow_networks, "api.webhook_allow_networks", path)
    if min(api.requests_per_minute, api.webhook_disable_after) < 1 or min(api.webhook_timeout,
                                                                           api.webhook_retry_hours) <= 0:
        raise ConfigError(f"{path}: 'api.requests_per_minute', 'api.webhook_disable_after', 'api.webhook_timeout' "
                          "and 'api.webhook_retry_hours' must be above 0")
    names = [w.name for w in settings.webhooks]
    for i, hook in enumerate(settings.webhooks):
        where = f"webhooks[{i}]"
        if not SLUG_RE.match(hook.name) or names.count(hook.name) > 1:
            raise ConfigError(f"{path}: '{where}.name' must be a unique lowercase name (letters, digits, dashes)")
        if not re.match(r"^https?://[^/\s]+", hook.url):
            raise ConfigError(f"{path}: '{where}.url' must be an http(s) URL, not {hook.url!r}")
        unknown = sorted(set(hook.events) - set(WEBHOOK_EVENTS))
        if unknown or not hook.events:
            raise ConfigError(f"{path}: '{where}.events' takes some of {', '.join(WEBHOOK_EVENTS)}",
                              hint=f"unknown: {', '.join(unknown)}" if unknown else None)


def _check_newsletter(newsletter: NewsletterSettings, where: str, path: Path) -> None:
    if not SLUG_RE.match(newsletter.slug):
        raise ConfigError(
            f"{path}: '{where}.slug' must be lowercase letters, digits and dashes, not {newsletter.slug!r}")
    if "@" not in parseaddr(newsletter.from_address)[1]:
        raise ConfigError(f"{path}: '{where}.from_address' is not an email address: {newsletter.from_address!r}")
    try:
        zone = ZoneInfo(newsletter.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{path}: '{where}.timezone' is not an IANA time zone: {newsletter.timezone!r}") from None
    for key in ("schedule", "roundup_schedule"):
        try:
            if key == "schedule" or newsletter.roundup_schedule:
                make_trigger(getattr(newsletter, key), zone)
        except ValueError as exc:
            raise ConfigError(f"{path}: '{where}.{key}' is not a cron expression: {exc}") from None
    if newsletter.roundup_items < 1:
        raise ConfigError(f"{path}: '{where}.roundup_items' must be at least 1")
    if newsletter.review_lead_minutes <= 0:
        raise ConfigError(f"{path}: '{where}.review_lead_minutes' must be above 0")
    if newsletter.max_items < 1 or newsletter.summary_sentences < 1:
        raise ConfigError(f"{path}: '{where}.max_items' and '{where}.summary_sentences' must be at least 1")
    if not newsletter.sources:
        raise ConfigError(f"{path}: '{where}.sources' needs at least one source")
    names = [s.name for s in newsletter.sources]
    for j, section in enumerate(newsletter.sections):
        for name in section.sources:
            if name not in names:
                raise ConfigError(f"{path}: '{where}.sections[{j}].sources' names unknown source {name!r}")
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: '{where}.sources' has two sources with the same name")
    for j, source in enumerate(newsletter.sources):
        _check_source(source, f"{where}.sources[{j}]", path)


def _check_source(source: SourceSettings, where: str, path: Path) -> None:
    if source.min_interval_minutes < 0:
        raise ConfigError(f"{path}: '{where}.min_interval_minutes' must be 0 or more")
    if (source.kind == "html") != bool(source.link_pattern):
        raise ConfigError(f"{path}: '{where}.link_pattern' is required for kind = \"html\" and only for it")
    try:
        re.compile(source.link_pattern)
    except re.error as exc:
        raise ConfigError(f"{path}: '{where}.link_pattern' is not a regular expression: {exc}") from None
