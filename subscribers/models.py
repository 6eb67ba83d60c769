"""Subscriber, Subscription (per newsletter, with its own state) and ConsentEvent.

A person is one Subscriber row however many newsletters they read; each
newsletter is a Subscription with its own status, so leaving one never touches
another. ConsentEvent is append-only: it is the proof we show a mail provider
or a data-protection request.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subscribers.db import Base, UTCDateTime, utcnow


class SubscriptionStatus(enum.Enum):
    pending = "pending"
    confirmed = "confirmed"
    unsubscribed = "unsubscribed"


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan"
    )
    events: Mapped[list[ConsentEvent]] = relationship(cascade="all, delete-orphan", order_by="ConsentEvent.id")


class Subscription(Base):
    __tablename__ = "subscriptions"
    # The console counts an audience by state, and its changes by day, from these indexes alone.
    __table_args__ = (UniqueConstraint("subscriber_id", "newsletter"),
                      Index("ix_subscriptions_newsletter_status", "newsletter", "status"),
                      Index("ix_subscriptions_newsletter_confirmed_at", "newsletter", "confirmed_at"),
                      Index("ix_subscriptions_newsletter_unsubscribed_at", "newsletter", "unsubscribed_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    newsletter: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        Enum(SubscriptionStatus, native_enum=False, length=20), default=SubscriptionStatus.pending
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The reader's own pause (preferences page): no issue until then, then mail again by itself.
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    plain_text: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The sections the reader takes (JSON list of titles, sorted: equal choices are equal strings, so an
    # issue renders once per distinct choice); NULL: every section.
    sections: Mapped[str | None] = mapped_column(Text, nullable=True)
    # "each" issue, or the "weekly" roundup only (where the newsletter has one).
    frequency: Mapped[str] = mapped_column(String(10), default="each", server_default="each")
    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    tokens: Mapped[list[OptInToken]] = relationship(cascade="all, delete-orphan", overlaps="subscription")


class ConsentEvent(Base):
    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    newsletter: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class OptInToken(Base):
    """A confirmation link's token, stored only as its SHA-256: a database leak
    must not let anyone confirm (or reveal) pending subscriptions."""

    __tablename__ = "optin_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    subscription: Mapped[Subscription] = relationship()


class RateCount(Base):
    """Uses of one budget key in one fixed window, shared by every web process and replica."""

    __tablename__ = "rate_counts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)  # window start, in seconds since the epoch
    count: Mapped[int] = mapped_column(Integer, default=0)


class Suppression(Base):
    """An address no issue may go to: it bounced hard, kept bouncing, complained, or an operator said so.

    One row per address, kept when lifted (active false) so the history of
    who lifted it and why stays; every change is also a ConsentEvent.
    """

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    reason: Mapped[str] = mapped_column(String(30))  # hard_bounce, soft_bounces, complaint, operator
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lifted_reason: Mapped[str] = mapped_column(Text, default="")


class BounceScore(Base):
    """Soft bounces of one address: a score that counts bounce days and is forgotten when stale."""

    __tablename__ = "bounce_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    last_bounce_at: Mapped[datetime] = mapped_column(UTCDateTime)
