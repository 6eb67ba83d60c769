"""The settings of the web wing: reader pages, the console, the API, webhooks and click analytics.

Apart from settings.py only to keep each module small; settings.py imports these names, so callers
keep importing them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    # Test copies from the console go to operators' own addresses and these (an address, or "@domain" for a
    # whole domain) only, at most test_copies_per_hour per operator.
    test_copy_addresses: tuple[str, ...] = ()
    test_copies_per_hour: int = 10


WEBHOOK_EVENTS = ("subscriber.pending", "subscriber.confirmed", "subscriber.unsubscribed",
                  "subscriber.preferences_changed", "subscriber.suppressed", "subscriber.bounced",
                  "subscriber.complained", "issue.drafted", "issue.approved", "issue.sent", "issue.paused")


@dataclass(frozen=True)
class WebhookSettings:
    """One endpoint of the newsroom's: the events it wants, signed as Standard Webhooks says with the secret
    (whsec_...) read from the environment variable named here."""

    name: str
    url: str
    events: tuple[str, ...] = WEBHOOK_EVENTS
    secret_env: str = "DIGEST_WEBHOOK_SECRET"
    secret: str | None = field(default=None, repr=False, metadata={"derived": True})


@dataclass(frozen=True)
class ApiSettings:
    """The REST API at /api/v1 (keys: `digest apikeys add`) and the delivery of webhooks."""

    enabled: bool = True
    requests_per_minute: int = 600  # per key, counted in the database (every web process shares them)
    # Webhook endpoints are refused on private addresses unless inside these networks (as gather.allow_networks).
    webhook_allow_networks: tuple[str, ...] = ()
    webhook_allow_ports: tuple[int, ...] = (80, 443)
    webhook_timeout: float = 10.0
    webhook_retry_hours: float = 72.0  # then the event is marked failed for that endpoint
    webhook_disable_after: int = 100  # failures in a row that disable an endpoint (`digest webhooks enable`)


@dataclass(frozen=True)
class NewsletterAnalytics:  # per newsletter, or all of them in [analytics]; off unless the operator asks
    clicks: bool = False
    opens: bool = False  # a pixel: mail clients and privacy proxies fetch it themselves, so shown apart
    per_reader: bool = False  # a signed reader part in each reader's links (readers may opt out), with clicks


@dataclass(frozen=True)
class AnalyticsSettings(NewsletterAnalytics):
    retention_days: int = 30  # raw click rows; then only daily counts per link stay
