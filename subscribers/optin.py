"""The double opt-in state machine: request -> confirm -> (unsubscribe -> undo).

    (none) --request--> pending --confirm--> confirmed --unsubscribe--> unsubscribed
                          ^   \\--request (resent)                  |
                          +-------------------- request ------------+
                                               confirmed <--undo----+

Every change writes a ConsentEvent in the same transaction, so the record of
consent can never drift from the state it proves. Functions take a session
and return plain results; committing, and sending the confirmation email, is
the caller's job (the app layer). Nothing but that confirmation email may go
to an address before it confirms: these functions only ever hand out a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subscribers.db import utcnow
from subscribers.errors import InvalidAddress, InvalidToken, RateLimited, SubscriberError, TokenExpired
from subscribers.models import ConsentEvent, OptInToken, Subscriber, Subscription, SubscriptionStatus
from subscribers.tokens import find_token, issue_token, read_unsubscribe_token

DEFAULT_TTL = timedelta(hours=48)


@dataclass(frozen=True)
class Origin:
    """Where a consent step came from, for the record."""

    source: str
    ip: str = ""
    user_agent: str = ""


@dataclass(frozen=True)
class SignupResult:
    email: str
    newsletter: str
    token: str | None  # None: nothing to send (already confirmed, or too many requests)


def normalize_address(address: str, *, check_deliverability: bool = False) -> str:
    """Validate and normalize (lower case); DNS checks stay off unless the operator asks (tests never do DNS)."""
    address = (address or "").strip()
    if any(ch in address for ch in "\r\n\0") or len(address) > 320:
        raise InvalidAddress("Please, enter correct email address")
    try:
        # No SMTPUTF8 (non-ASCII local parts): most relays refuse it; IDN domains become punycode.
        result = validate_email(address, check_deliverability=check_deliverability, allow_smtputf8=False)
    except EmailNotValidError:
        raise InvalidAddress("Please, enter correct email address") from None
    # Local parts are case-sensitive on paper but not at any real mailbox provider;
    # treating "Ann@" and "ann@" as two people would mail one reader twice.
    return (result.ascii_email or result.normalized).lower()


def record(session: Session, subscription: Subscription, kind: str, origin: Origin, now: datetime,
           detail: str = "") -> None:
    session.add(ConsentEvent(subscriber_id=subscription.subscriber_id, newsletter=subscription.newsletter,
                             kind=kind, at=now, ip=origin.ip[:64], user_agent=origin.user_agent[:500],
                             detail=f"source={origin.source}" + (f"; {detail}" if detail else "")))


def subscription_for(session: Session, email: str, newsletter: str, now: datetime) -> Subscription:
    """Find or create (as pending) one person's subscription to one newsletter."""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None:
        subscriber = Subscriber(email=email, created_at=now)
        session.add(subscriber)
        session.flush()
    subscription = session.scalar(select(Subscription).where(
        Subscription.subscriber_id == subscriber.id, Subscription.newsletter == newsletter))
    if subscription is None:
        subscription = Subscription(subscriber_id=subscriber.id, subscriber=subscriber, newsletter=newsletter,
                                    created_at=now, status=SubscriptionStatus.pending)
        session.add(subscription)
        session.flush()
    return subscription


def request_signup(
    session: Session, address: str, newsletter: str, origin: Origin, *, now: datetime | None = None,
    ttl: timedelta = DEFAULT_TTL, max_per_hour: int = 3,
) -> SignupResult:
    """A signup form was posted. The caller answers the same way whatever this returns (no enumeration)."""
    now = now or utcnow()
    email = normalize_address(address)
    subscription = subscription_for(session, email, newsletter, now)
    if subscription.status is SubscriptionStatus.confirmed:
        record(session, subscription, "requested", origin, now, "already confirmed; nothing sent")
        return SignupResult(email, newsletter, None)
    if _recent_requests(session, subscription, now) >= max_per_hour:
        record(session, subscription, "requested", origin, now, "rate limited; nothing sent")
        return SignupResult(email, newsletter, None)
    kind = "resent" if subscription.status is SubscriptionStatus.pending and subscription.tokens else "requested"
    subscription.status = SubscriptionStatus.pending
    token = issue_token(session, subscription, now, ttl)
    record(session, subscription, kind, origin, now)
    return SignupResult(email, newsletter, token)


def _recent_requests(session: Session, subscription: Subscription, now: datetime) -> int:
    """Confirmation emails sent for this subscription in the last hour (one token each; any process)."""
    return session.scalar(select(func.count()).select_from(OptInToken).where(
        OptInToken.subscription_id == subscription.id, OptInToken.created_at > now - timedelta(hours=1))) or 0


def peek_confirmation(session: Session, token: str, *, now: datetime | None = None) -> Subscription:
    """What a confirmation link is for, changing nothing (a GET: mail scanners open links)."""
    now = now or utcnow()
    row = find_token(session, token)
    if row.used_at is not None:
        if row.subscription.status is SubscriptionStatus.confirmed:
            return row.subscription
        raise InvalidToken("This confirmation link has already been used or replaced by a newer one.")
    if row.expires_at <= now:
        raise TokenExpired("This confirmation link has expired.", token)
    return row.subscription


def confirm_signup(session: Session, token: str, origin: Origin,
                   *, now: datetime | None = None) -> tuple[Subscription, bool]:
    """The reader pressed Confirm (a POST): (subscription, whether this press confirmed it).

    Single use; pressing again on a used link just shows success and changes nothing.
    """
    now = now or utcnow()
    subscription = peek_confirmation(session, token, now=now)
    row = find_token(session, token)
    if row.used_at is not None:
        return subscription, False
    row.used_at = now
    subscription.status = SubscriptionStatus.confirmed
    subscription.confirmed_at = now
    subscription.unsubscribed_at = None
    record(session, subscription, "confirmed", origin, now)
    session.flush()
    return subscription, True


def renew_expired(session: Session, token: str, origin: Origin, *, now: datetime | None = None,
                  ttl: timedelta = DEFAULT_TTL, max_per_hour: int = 3) -> SignupResult:
    """Trade an expired (never used) link for a new email."""
    now = now or utcnow()
    row = find_token(session, token)
    if row.used_at is not None or row.expires_at > now:
        raise InvalidToken("This link cannot be renewed.")
    subscription = row.subscription
    if _recent_requests(session, subscription, now) >= max_per_hour:
        raise RateLimited("We already sent you a new link recently. Please check your inbox.")
    new = issue_token(session, subscription, now, ttl)
    record(session, subscription, "resent", origin, now, "expired link renewed")
    return SignupResult(subscription.subscriber.email, subscription.newsletter, new)


def unsubscribe(session: Session, subscription: Subscription, origin: Origin, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    if subscription.status is SubscriptionStatus.unsubscribed:
        return
    subscription.status = SubscriptionStatus.unsubscribed
    subscription.unsubscribed_at = now
    record(session, subscription, "unsubscribed", origin, now)
    session.flush()


def subscription_from_link(session: Session, secret: str, token: str) -> Subscription:
    subscriber_id, newsletter = read_unsubscribe_token(secret, token)
    subscription = session.scalar(select(Subscription).where(
        Subscription.subscriber_id == subscriber_id, Subscription.newsletter == newsletter))
    if subscription is None:
        raise SubscriberError("We hold no subscription for this link; there is nothing to unsubscribe.")
    return subscription


def unsubscribe_by_link(session: Session, secret: str, token: str, origin: Origin,
                        *, now: datetime | None = None) -> Subscription:
    """The personal link in a digest, or the RFC 8058 one-click POST: takes effect at once."""
    subscription = subscription_from_link(session, secret, token)
    unsubscribe(session, subscription, origin, now=now)
    return subscription


def undo_unsubscribe(session: Session, secret: str, token: str, origin: Origin,
                     *, now: datetime | None = None) -> Subscription:
    """"Undo" on the unsubscribed page: only someone who had confirmed can come straight back."""
    now = now or utcnow()
    subscription = subscription_from_link(session, secret, token)
    if subscription.status is SubscriptionStatus.unsubscribed and subscription.confirmed_at is not None:
        subscription.status = SubscriptionStatus.confirmed
        subscription.unsubscribed_at = None
        record(session, subscription, "resubscribed", origin, now, "undo on the unsubscribed page")
        session.flush()
    return subscription


def add_subscriber(session: Session, address: str, newsletter: str, *, confirmed: bool, origin: Origin,
                   now: datetime | None = None, ttl: timedelta = DEFAULT_TTL, kind: str | None = None,
                   ) -> tuple[Subscription, str | None]:
    """An operator adds someone (CLI, CSV import).

    With `confirmed=True` the operator states that consent was obtained
    elsewhere, and the record says so. Otherwise the subscription is pending
    and the returned token is for the confirmation email the caller sends.
    A confirmed subscription is never set back to pending.
    """
    now = now or utcnow()
    subscription = subscription_for(session, normalize_address(address), newsletter, now)
    if subscription.status is SubscriptionStatus.confirmed:
        return subscription, None
    if subscription.status is SubscriptionStatus.unsubscribed:
        # Someone who left is not brought back by an operator's list; they may sign up again themselves.
        return subscription, None
    if confirmed:
        subscription.status = SubscriptionStatus.confirmed
        subscription.confirmed_at = now
        subscription.unsubscribed_at = None
        record(session, subscription, kind or "confirmed", origin, now,
               "consent obtained elsewhere (operator's statement)")
        session.flush()
        return subscription, None
    subscription.status = SubscriptionStatus.pending
    token = issue_token(session, subscription, now, ttl)
    record(session, subscription, kind or "requested", origin, now, "confirmation requested")
    return subscription, token


def remove_subscriber(session: Session, address: str, newsletter: str | None, origin: Origin,
                      *, now: datetime | None = None) -> int:
    """Unsubscribe from one newsletter (or all); returns how many subscriptions changed."""
    query = select(Subscription).join(Subscriber).where(
        Subscriber.email == normalize_address(address), Subscription.status != SubscriptionStatus.unsubscribed)
    if newsletter:
        query = query.where(Subscription.newsletter == newsletter)
    changed = list(session.scalars(query))
    for subscription in changed:
        unsubscribe(session, subscription, origin, now=now)
    return len(changed)
