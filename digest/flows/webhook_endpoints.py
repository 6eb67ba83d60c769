"""Webhook endpoints: those of config.toml and those registered through the API, as one list for delivery.

An endpoint registered through /api/v1/webhooks is a row (webhook_endpoints);
from there on it is a WebhookSettings like a configured one, delivered by the
same code, counted and disabled the same way. Its URL is checked when it is
registered by the fetch policy that delivery applies at each connect (no
private address unless api.webhook_allow_networks opens it, only the allowed
ports), so a caller learns at once instead of from a failed delivery. Its
signing secret (made here and shown once, or given) is kept sealed with a key
derived from the site's secret key: the database alone cannot sign.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from digest.errors import DigestError, FeedError
from digest.models_api import WebhookAttempt, WebhookEndpoint, WebhookState
from digest.net.guarded import check_endpoint
from digest.net.policy import FetchPolicy
from digest.settings import SLUG_RE, WEBHOOK_EVENTS, Settings, WebhookSettings

URL_RE = re.compile(r"^https?://[^/\s?#]+[^\s]*$")
MAX_URL = 2000
MAX_REGISTERED = 100  # endpoints through the API: each one multiplies the work of every event


class EndpointError(DigestError):
    """An endpoint that cannot be registered or changed; `kind` is bad (the request), conflict or missing."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def policy_for(settings: Settings) -> FetchPolicy:
    """The fetch policy of webhook deliveries: no origin trusted, private networks and ports only as allowed."""
    api = settings.api
    return FetchPolicy.create((), allow_networks=api.webhook_allow_networks, allow_ports=api.webhook_allow_ports)


def every(session: Session, settings: Settings) -> list[WebhookSettings]:
    """The configured endpoints, then the registered ones (one read), each with its secret."""
    return [*settings.webhooks, *(_settings(row, settings) for row in
                                  session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name)))]


def registered(session: Session) -> dict[str, WebhookEndpoint]:
    return {row.name: row for row in session.scalars(select(WebhookEndpoint))}


def create(session: Session, settings: Settings, name: str, url: str, events: list[str] | None,
           secret: str | None, who: str, now: datetime) -> tuple[WebhookEndpoint, str]:
    """The new row and its signing secret (the only time it is shown, when it was made here)."""
    if not SLUG_RE.match(name) or len(name) > 64:
        raise EndpointError("bad", "a name is lowercase letters, digits and dashes, at most 64")
    if name in {w.name for w in settings.webhooks} or session.scalar(
            select(WebhookEndpoint.id).where(WebhookEndpoint.name == name)) is not None:
        raise EndpointError("conflict", f"there is already an endpoint named {name!r}")
    if len(registered(session)) >= MAX_REGISTERED:
        raise EndpointError("conflict", f"at most {MAX_REGISTERED} endpoints can be registered")
    check_url(settings, url)
    chosen = _events(events if events is not None else list(WEBHOOK_EVENTS))
    if secret is None:
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    elif not _signs(secret):
        raise EndpointError("bad", "a secret is whsec_ and 24 to 64 bytes in base64 (Standard Webhooks' form)")
    row = WebhookEndpoint(name=name, url=url, events=" ".join(chosen), secret_sealed=_sealer(settings).encrypt(
        secret.encode()).decode(), created_by=who[:80], created_at=now)
    session.add(row)
    session.flush()
    return row, secret


def set_events(session: Session, settings: Settings, name: str, events: list[str]) -> WebhookEndpoint:
    row = _row(session, settings, name)
    row.events = " ".join(_events(events))
    return row


def remove(session: Session, settings: Settings, name: str) -> None:
    """The endpoint and what it was owed: queued events are not sent to it any more."""
    session.delete(_row(session, settings, name))
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.endpoint == name))
    session.execute(delete(WebhookState).where(WebhookState.name == f"endpoint:{name}"))


def check_url(settings: Settings, url: str) -> None:
    if len(url) > MAX_URL or not URL_RE.match(url):
        raise EndpointError("bad", f"an endpoint is an http(s) URL of at most {MAX_URL} characters")
    try:
        check_endpoint(policy_for(settings), url, settings.api.webhook_timeout)
    except FeedError as exc:
        raise EndpointError("bad", f"{exc} (api.webhook_allow_networks and api.webhook_allow_ports open "
                                   "private addresses and other ports)") from None


def _row(session: Session, settings: Settings, name: str) -> WebhookEndpoint:
    if name in {w.name for w in settings.webhooks}:
        raise EndpointError("conflict", f"{name!r} is configured in config.toml: change it there")
    row = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == name))
    if row is None:
        raise EndpointError("missing", f"no endpoint named {name!r}")
    return row


def _events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown or not events:
        raise EndpointError("bad", f"events are some of {', '.join(WEBHOOK_EVENTS)}"
                                   + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    return [e for e in WEBHOOK_EVENTS if e in events]


def _signs(secret: str) -> bool:
    raw = secret.removeprefix("whsec_")
    try:
        size = len(base64.b64decode(raw, validate=True))
        Webhook(secret)
    except (ValueError, TypeError):
        return False
    return secret.startswith("whsec_") and 24 <= size <= 64


def _sealer(settings: Settings) -> Fernet:
    key = settings.site.secret_key
    if not key:
        raise EndpointError("conflict", f"set {settings.site.secret_key_env}: registered secrets are sealed with it")
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"digest webhook secrets\0" + key.encode()).digest()))


def _settings(row: WebhookEndpoint, settings: Settings) -> WebhookSettings:
    try:
        secret = _sealer(settings).decrypt(row.secret_sealed.encode()).decode()
    except (InvalidToken, EndpointError):
        secret = None  # delivery says why: the site's secret key changed since it was registered
    return WebhookSettings(name=row.name, url=row.url, events=tuple(row.events.split()), secret_env="",
                           secret=secret)


__all__ = ["EndpointError", "check_url", "create", "every", "policy_for", "registered", "remove", "set_events"]
