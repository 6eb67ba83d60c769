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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subscribers.db import utcnow
from subscribers.consent import Origin, normalize_address, record
from subscribers.errors import InvalidToken, RateLimited, SubscriberError, Suppressed, TokenExpired
from subscribers.models import ConsentEvent, Subscriber, Subscription, SubscriptionStatus
from subscribers.limits import mailbox_key, take
from subscribers.consent import record_for_address
from subscribers.suppression import BOUNCE_REASONS, active_suppression, lift_by_signup, suppress
from subscribers.tokens import find_token, issue_token, make_undo_token, read_undo_token, read_unsubscribe_token

DEFAULT_TTL = timedelta(hours=48)
UNDO_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class SignupResult:
    email: str
    newsletter: str
    token: str | None  # None: nothing to send (already confirmed, or too many requests)


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
    ttl: timedelta = DEFAULT_TTL, max_per_hour: int = 3, site_per_hour: int = 0,
) -> SignupResult:
    """A signup form was posted. The caller answers the same way whatever this returns (no enumeration).

    At most `max_per_hour` confirmation emails go to one mailbox for one
    newsletter (however the address is spelled: limits.mailbox_key) and at
    most `site_per_hour` (0: no cap) to anyone. Someone who unsubscribed stays
    unsubscribed until they confirm again. The consent record grows as slowly:
    requests that send nothing are written down `max_per_hour` times an hour.
    """
    now = now or utcnow()
    email = normalize_address(address)
    subscription = subscription_for(session, email, newsletter, now)
    suppression = active_suppression(session, email)
    def nothing_sent(why: str) -> SignupResult:
        # A flood of posts for one mailbox must not become a flood of consent rows: requests that send
        # nothing are recorded up to the same hourly number as the emails, then only counted.
        if take(session, f"noted:{mailbox_key(email)}:{newsletter}", max_per_hour, now):
            record(session, subscription, "requested", origin, now, f"{why}; nothing sent")
        return SignupResult(email, newsletter, None)

    if suppression is not None and suppression.reason not in BOUNCE_REASONS:
        # A complaint (or an operator's word) is lifted only by an operator; the form answers as always.
        return nothing_sent(f"suppressed ({suppression.reason})")
    if subscription.status is SubscriptionStatus.confirmed and suppression is None:
        return nothing_sent("already confirmed")
    refusal = _budget_refusal(session, email, newsletter, now, max_per_hour, site_per_hour)
    if refusal:
        return nothing_sent(refusal)
    kind = "resent" if subscription.status is SubscriptionStatus.pending and subscription.tokens else "requested"
    token = issue_token(session, subscription, now, ttl)
    record(session, subscription, kind, origin, now)
    return SignupResult(email, newsletter, token)


def _budget_refusal(session: Session, email: str, newsletter: str, now: datetime, per_mailbox: int,
                    per_site: int) -> str:
    """"" when one more confirmation email may go to `email`; otherwise which budget is spent."""
    if not take(session, f"confirm:{mailbox_key(email)}:{newsletter}", per_mailbox, now):
        return "rate limited (this mailbox)"
    if per_site and not take(session, "site:confirmations", per_site, now):
        return "rate limited (the site's hourly budget of confirmation emails)"
    return ""


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
    lift_by_signup(session, subscription.subscriber.email, origin, now)  # the mailbox works again
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
    if _budget_refusal(session, subscription.subscriber.email, subscription.newsletter, now, max_per_hour, 0):
        raise RateLimited("We already sent you a new link recently. Please check your inbox.")
    new = issue_token(session, subscription, now, ttl)
    record(session, subscription, "resent", origin, now, "expired link renewed")
    return SignupResult(subscription.subscriber.email, subscription.newsletter, new)


def unsubscribe(session: Session, subscription: Subscription, origin: Origin, *, now: datetime | None = None,
                detail: str = "") -> ConsentEvent | None:
    """The event that records it, or None when there was nothing to change."""
    now = now or utcnow()
    if subscription.status is SubscriptionStatus.unsubscribed:
        return None
    subscription.status = SubscriptionStatus.unsubscribed
    subscription.unsubscribed_at = now
    event = record(session, subscription, "unsubscribed", origin, now, detail)
    session.flush()
    return event


def subscription_from_link(session: Session, secret: str, token: str) -> Subscription:
    subscriber_id, newsletter = read_unsubscribe_token(secret, token)
    subscription = session.scalar(select(Subscription).where(
        Subscription.subscriber_id == subscriber_id, Subscription.newsletter == newsletter))
    if subscription is None:
        raise SubscriberError("We hold no subscription for this link; there is nothing to unsubscribe.")
    return subscription


def unsubscribe_by_link(session: Session, secret: str, token: str, origin: Origin,
                        *, now: datetime | None = None) -> tuple[Subscription, str | None]:
    """The personal link in a digest, or the RFC 8058 one-click POST: takes effect at once.

    Returns the subscription and, when this very request unsubscribed a
    confirmed reader, the token of its "undo" button (tokens.make_undo_token).
    """
    subscription = subscription_from_link(session, secret, token)
    event = unsubscribe(session, subscription, origin, now=now, detail="personal link")
    if event is None or subscription.confirmed_at is None:
        return subscription, None
    return subscription, make_undo_token(secret, subscription.subscriber_id, subscription.newsletter, event.id)


def undo_unsubscribe(session: Session, secret: str, undo_token: str, origin: Origin,
                     *, now: datetime | None = None) -> Subscription:
    """"Undo" on the unsubscribed page: once, within UNDO_TTL, and only the unsubscribe it was made for.

    Anything recorded since (an operator's removal, a complaint, a new
    signup, the undo itself) makes the token stale.
    """
    now = now or utcnow()
    subscriber_id, newsletter, event_id = read_undo_token(secret, undo_token, UNDO_TTL)
    subscription = session.scalar(select(Subscription).where(
        Subscription.subscriber_id == subscriber_id, Subscription.newsletter == newsletter))
    latest = session.scalar(select(func.max(ConsentEvent.id)).where(
        ConsentEvent.subscriber_id == subscriber_id, ConsentEvent.newsletter == newsletter))
    if subscription is None or latest != event_id or subscription.status is not SubscriptionStatus.unsubscribed:
        raise InvalidToken("This undo link no longer applies. You can sign up again on the signup page.")
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
    email = normalize_address(address)
    suppression = active_suppression(session, email)
    if suppression is not None:
        raise Suppressed(f"{email} is suppressed ({suppression.reason.replace('_', ' ')} on "
                         f"{suppression.created_at:%Y-%m-%d}): an operator must lift it first "
                         "(digest subscribers suppressions lift)")
    subscription = subscription_for(session, email, newsletter, now)
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


def record_complaint(session: Session, email: str, detail: str, origin: Origin, now: datetime) -> list[str]:
    """A spam complaint: out of every newsletter at once, and suppressed; returns the newsletters left."""
    record_for_address(session, email, "complaint", origin, now, detail)
    left = []
    for subscription in session.scalars(select(Subscription).join(Subscriber).where(
            Subscriber.email == email, Subscription.status != SubscriptionStatus.unsubscribed)):
        unsubscribe(session, subscription, origin, now=now, detail=f"spam complaint: {detail}")
        left.append(subscription.newsletter)
    suppress(session, email, "complaint", detail, origin, now)
    return left
