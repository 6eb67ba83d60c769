"""The API's tables: keys (only their hashes), and the webhooks' events, attempts per endpoint and state.

Kept apart from models.py (the newsletter's own tables); digest.db imports both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from subscribers.db import Base, UTCDateTime, utcnow


class ApiKey(Base):
    """A key is shown once; only its SHA-256 is kept (a database leak opens nothing). `prefix` names it in logs."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated: subscribers:read subscribers:write ...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookEvent(Base):
    """One thing that happened, derived from the row that records it (a consent event, a draft, an issue), with
    an id made from that row: reading the row twice makes the same event, never a second one."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)  # webhook-id: the receiver's idempotency key
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, as signed
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebhookAttempt(Base):
    """An event owed to one endpoint: queued until a 2xx, or failed once api.webhook_retry_hours have passed."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("event_id", "endpoint"),
                      Index("ix_webhook_attempts_due", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued delivered failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookState(Base):
    """Per endpoint: failures in a row (a success resets them) and when it was disabled for failing too long;
    per source table: how far events have been read (the `cursor:` rows)."""

    __tablename__ = "webhook_state"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures_in_a_row: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    cursor: Mapped[int] = mapped_column(Integer, default=0)


class WebhookEndpoint(Base):
    """An endpoint registered through the API (those in config.toml are not stored): delivered by the same code.
    Its signing secret is kept sealed with a key derived from the site's secret key (DIGEST_SECRET_KEY), so a
    copy of the database alone cannot forge the newsroom's webhooks."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(Text)  # space-separated event types
    secret_sealed: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
