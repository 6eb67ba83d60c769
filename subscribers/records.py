"""Reading the audience: who gets a newsletter, and everything held about one person.

`export_person` and `forget_person` answer a reader's data request: all we
hold about them, as plain data, and its erasure.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from subscribers.models import (BounceScore, ConsentEvent, OptInToken, Subscriber, Subscription, SubscriptionStatus,
                                Suppression)
from subscribers.optin import normalize_address
from subscribers.suppression import not_suppressed


def list_subscriptions(
    session: Session, newsletter: str | None = None, status: SubscriptionStatus | None = None
) -> Sequence[tuple[str, str, SubscriptionStatus]]:
    query = select(Subscriber.email, Subscription.newsletter, Subscription.status).join(Subscription)
    if newsletter:
        query = query.where(Subscription.newsletter == newsletter)
    if status:
        query = query.where(Subscription.status == status)
    return [tuple(row) for row in session.execute(query.order_by(Subscriber.email, Subscription.newsletter))]


def subscriptions_for_export(
    session: Session, newsletter: str | None = None, status: SubscriptionStatus | None = None
) -> Sequence[tuple[Subscriber, Subscription]]:
    query = select(Subscriber, Subscription).join(Subscription)
    if newsletter:
        query = query.where(Subscription.newsletter == newsletter)
    if status:
        query = query.where(Subscription.status == status)
    return [tuple(row) for row in session.execute(query.order_by(Subscriber.email, Subscription.newsletter))]


def confirmed_recipients(session: Session, newsletter: str) -> list[tuple[int, str]]:
    """(subscriber id, address) of everyone who confirmed this newsletter and is not suppressed."""
    query = (
        select(Subscriber.id, Subscriber.email)
        .join(Subscription)
        .where(Subscription.newsletter == newsletter, Subscription.status == SubscriptionStatus.confirmed,
               not_suppressed(Subscriber.email))
        .order_by(Subscriber.id)
    )
    return [(row.id, row.email) for row in session.execute(query)]


def confirmed_count(session: Session, newsletter: str) -> int:
    """How many `confirmed_recipients` would return, counted by the database (a preview must not load them all)."""
    return session.scalar(select(func.count()).select_from(Subscription).join(Subscriber).where(
        Subscription.newsletter == newsletter, Subscription.status == SubscriptionStatus.confirmed,
        not_suppressed(Subscriber.email))) or 0


def find_subscriber(session: Session, address: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.email == normalize_address(address)))


def export_person(session: Session, address: str) -> dict | None:
    """Everything this package holds about one address, JSON-ready (None if nothing)."""
    subscriber = find_subscriber(session, address)
    if subscriber is None:
        return None
    return {
        "email": subscriber.email,
        "created_at": subscriber.created_at.isoformat(),
        "subscriptions": [
            {"newsletter": s.newsletter, "status": s.status.value, "created_at": _iso(s.created_at),
             "confirmed_at": _iso(s.confirmed_at), "unsubscribed_at": _iso(s.unsubscribed_at),
             "pending_confirmation_links": sum(1 for t in s.tokens if t.used_at is None)}
            for s in subscriber.subscriptions
        ],
        "suppression": _suppression(session, subscriber.email),
        "consent_events": [
            {"at": _iso(e.at), "newsletter": e.newsletter, "kind": e.kind, "ip": e.ip,
             "user_agent": e.user_agent, "detail": e.detail}
            for e in subscriber.events
        ],
    }


def _suppression(session: Session, email: str) -> dict | None:
    row = session.scalar(select(Suppression).where(Suppression.email == email))
    score = session.scalar(select(BounceScore).where(BounceScore.email == email))
    if row is None and score is None:
        return None
    return {"active": bool(row and row.active), "reason": row.reason if row else None,
            "since": _iso(row.created_at) if row else None, "detail": row.detail if row else None,
            "lifted_at": _iso(row.lifted_at) if row else None, "lifted_reason": row.lifted_reason if row else None,
            "soft_bounce_score": score.score if score else 0.0,
            "last_soft_bounce_at": _iso(score.last_bounce_at) if score else None}


def forget_person(session: Session, address: str) -> int | None:
    """Erase one person: address, subscriptions, tokens and consent record; their id, or None if unknown.

    The row itself stays as a nameless tombstone so its id is never handed to
    someone else (SQLite reuses the highest freed id, and the unsubscribe links
    in old digests name the id): such a link then finds nobody. Rows other
    packages keep about the id (digest deliveries) are theirs to erase.
    """
    subscriber = find_subscriber(session, address)
    if subscriber is None:
        return None
    for row in [*subscriber.subscriptions, *subscriber.events]:
        session.delete(row)
    subscriber.email = f"forgotten-{secrets.token_hex(12)}@erased.invalid"
    session.flush()
    return subscriber.id


def purge_unconfirmed(session: Session, before: datetime) -> int:
    """Forget signups never confirmed whose last link was made before `before`: they never agreed to anything.

    Their address, IP and user agent are kept no longer than the link could
    be used plus a margin; a person who only ever had such signups goes whole.
    """
    recent = select(OptInToken.id).where(OptInToken.subscription_id == Subscription.id,
                                         OptInToken.created_at >= before)
    stale = list(session.scalars(select(Subscription).where(
        Subscription.status == SubscriptionStatus.pending, Subscription.confirmed_at.is_(None),
        Subscription.created_at < before, ~recent.exists())))
    for subscription in stale:
        subscriber = subscription.subscriber
        session.execute(delete(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber.id,
                                                   ConsentEvent.newsletter == subscription.newsletter))
        session.delete(subscription)
        session.flush()
        session.refresh(subscriber)
        if not subscriber.subscriptions and not subscriber.events:
            session.delete(subscriber)
    session.flush()
    return len(stale)


def _iso(value) -> str | None:
    return value.isoformat() if value else None
