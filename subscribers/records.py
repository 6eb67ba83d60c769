"""Reading the audience: who gets a newsletter, and everything held about one person.

`export_person` and `forget_person` answer a reader's data request: all we
hold about them, as plain data, and its erasure.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.models import Subscriber, Subscription, SubscriptionStatus
from subscribers.optin import normalize_address


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
    """(subscriber id, address) of everyone who confirmed this newsletter."""
    query = (
        select(Subscriber.id, Subscriber.email)
        .join(Subscription)
        .where(Subscription.newsletter == newsletter, Subscription.status == SubscriptionStatus.confirmed)
        .order_by(Subscriber.id)
    )
    return [(row.id, row.email) for row in session.execute(query)]


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
        "consent_events": [
            {"at": _iso(e.at), "newsletter": e.newsletter, "kind": e.kind, "ip": e.ip,
             "user_agent": e.user_agent, "detail": e.detail}
            for e in subscriber.events
        ],
    }


def forget_person(session: Session, address: str) -> bool:
    """Erase one person: subscriber, subscriptions, tokens and consent record.

    Rows other packages keep about them (digest deliveries) reference the
    subscriber with ON DELETE CASCADE, so they go too.
    """
    subscriber = find_subscriber(session, address)
    if subscriber is None:
        return False
    session.delete(subscriber)
    session.flush()
    return True


def _iso(value) -> str | None:
    return value.isoformat() if value else None
