"""Who is subscribed to what, and how that changes: validation, state, tokens.

Every change of state writes a ConsentEvent in the same transaction, so the
record of consent can never drift from the state it proves. Functions take a
session and return rows; committing is the caller's job (the app layer owns
the transaction).

The double opt-in web flow (confirmation email, confirm page) builds on these
functions; today an operator can add a pending subscriber, or a confirmed one
when they state that consent was obtained elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.db import utcnow
from subscribers.models import ConsentEvent, Subscriber, Subscription, SubscriptionStatus


class SubscriberError(Exception):
    pass


class InvalidAddress(SubscriberError):
    pass


def normalize_address(address: str, *, check_deliverability: bool = False) -> str:
    """Validate and normalize (lower case); DNS checks stay off unless the operator asks (tests never do DNS)."""
    address = address.strip()
    if any(ch in address for ch in "\r\n"):
        raise InvalidAddress(f"not a valid email address: {address!r}")
    try:
        result = validate_email(address, check_deliverability=check_deliverability)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"not a valid email address: {address!r}: {exc}") from None
    # Local parts are case-sensitive on paper but not at any real mailbox provider;
    # treating "Ann@" and "ann@" as two people would mail one reader twice.
    return result.normalized.lower()


def add_subscriber(
    session: Session,
    address: str,
    newsletter: str,
    *,
    confirmed: bool,
    source: str,
    ip: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> Subscription:
    """Create or update one subscription.

    `confirmed=True` means the caller states that consent was obtained; that
    statement is what the ConsentEvent records. A confirmed subscription is
    never set back to pending by a later add.
    """
    now = now or utcnow()
    email = normalize_address(address)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None:
        subscriber = Subscriber(email=email, created_at=now)
        session.add(subscriber)
        session.flush()
    subscription = session.scalar(
        select(Subscription).where(Subscription.subscriber_id == subscriber.id, Subscription.newsletter == newsletter)
    )
    if subscription is None:
        subscription = Subscription(subscriber_id=subscriber.id, newsletter=newsletter, created_at=now,
                                    status=SubscriptionStatus.pending)
        session.add(subscription)
    kind = "requested"
    if confirmed and subscription.status is not SubscriptionStatus.confirmed:
        subscription.status = SubscriptionStatus.confirmed
        subscription.confirmed_at = now
        subscription.unsubscribed_at = None
        kind = "confirmed"
    elif not confirmed and subscription.status is SubscriptionStatus.unsubscribed:
        subscription.status = SubscriptionStatus.pending
    session.add(ConsentEvent(subscriber_id=subscriber.id, newsletter=newsletter, kind=kind, at=now,
                             ip=ip, user_agent=user_agent, detail=f"source={source}"))
    session.flush()
    return subscription


def remove_subscriber(
    session: Session, address: str, newsletter: str | None = None, *, source: str, now: datetime | None = None
) -> int:
    """Unsubscribe from one newsletter (or all); returns how many subscriptions changed."""
    now = now or utcnow()
    email = normalize_address(address)
    query = select(Subscription).join(Subscriber).where(
        Subscriber.email == email, Subscription.status != SubscriptionStatus.unsubscribed
    )
    if newsletter:
        query = query.where(Subscription.newsletter == newsletter)
    changed = 0
    for subscription in session.scalars(query):
        unsubscribe(session, subscription, source=source, now=now)
        changed += 1
    return changed


def unsubscribe(session: Session, subscription: Subscription, *, source: str, ip: str = "",
                user_agent: str = "", now: datetime | None = None) -> None:
    now = now or utcnow()
    subscription.status = SubscriptionStatus.unsubscribed
    subscription.unsubscribed_at = now
    session.add(ConsentEvent(subscriber_id=subscription.subscriber_id, newsletter=subscription.newsletter,
                             kind="unsubscribed", at=now, ip=ip, user_agent=user_agent, detail=f"source={source}"))
    session.flush()


def list_subscriptions(
    session: Session, newsletter: str | None = None, status: SubscriptionStatus | None = None
) -> Sequence[tuple[str, str, SubscriptionStatus]]:
    query = select(Subscriber.email, Subscription.newsletter, Subscription.status).join(Subscription)
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


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="unsubscribe")


def make_unsubscribe_token(secret: str, subscriber_id: int, newsletter: str) -> str:
    """A signed, stateless token: the link in every digest must work without a lookup table."""
    return _serializer(secret).dumps([subscriber_id, newsletter])


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str]:
    try:
        subscriber_id, newsletter = _serializer(secret).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise SubscriberError("this unsubscribe link is not valid") from None
    return int(subscriber_id), str(newsletter)
