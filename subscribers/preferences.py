"""A reader's own choices, made on their page: which newsletters, a pause, leaving everything.

The page is reached with the sealed token every digest already carries for its
unsubscribe link (tokens.make_unsubscribe_token): it proves the address, names
one reader and reads as noise, so the page needs no login and no new secret in
each message. Subscribing from here is confirmed at once (the link proved the
address), but never for a suppressed address. Every change is a consent event
with its time and source, as a signup or an unsubscribe is.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.consent import Origin, record
from subscribers.errors import SubscriberError, Suppressed
from subscribers.models import Subscriber, Subscription, SubscriptionStatus
from subscribers.optin import unsubscribe
from subscribers.suppression import active_suppression
from subscribers.tokens import read_unsubscribe_token

PAUSE_WEEKS = (1, 2, 4, 8)
EACH, WEEKLY = "each", "weekly"  # Subscription.frequency: every issue, or the weekly roundup instead


@dataclass(frozen=True)
class Choice:
    """One newsletter as the reader's page shows it."""

    newsletter: str
    subscribed: bool
    pending: bool
    paused_until: datetime | None
    plain_text: bool = False
    sections: frozenset[str] | None = None  # None: every section
    frequency: str = EACH


def reader_from_link(session: Session, secret: str, token: str) -> Subscriber:
    """The reader a digest's link was made for; an unknown or forged token names nobody."""
    subscriber_id, _newsletter = read_unsubscribe_token(secret, token)
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise SubscriberError("We hold no subscription for this link any more.")
    return subscriber


def link_subject(session: Session, email: str) -> tuple[int, str] | None:
    """(subscriber id, newsletter) to make someone's link from, when we hold a subscription of theirs and may
    mail them; None for an unknown or suppressed address (the page answers the same either way)."""
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    if subscriber is None or active_suppression(session, email) is not None:
        return None
    mine = held(session, subscriber)
    mailed = [s for s in mine if s.status is not SubscriptionStatus.pending] or mine
    return (subscriber.id, mailed[0].newsletter) if mailed else None


def choices(session: Session, subscriber: Subscriber, newsletters: list[str], now: datetime) -> list[Choice]:
    """Every newsletter of the site, in the site's order, with this reader's state (a pause past its date is over)."""
    by_newsletter = {s.newsletter: s for s in held(session, subscriber)}
    out = []
    for slug in newsletters:
        s = by_newsletter.get(slug)
        paused = s.paused_until if s is not None and s.paused_until is not None and s.paused_until > now else None
        out.append(Choice(slug, s is not None and s.status is SubscriptionStatus.confirmed,
                          s is not None and s.status is SubscriptionStatus.pending, paused,
                          s is not None and s.plain_text, read_sections(s.sections) if s is not None else None,
                          s.frequency if s is not None else EACH))
    return out


def subscribe(session: Session, subscriber: Subscriber, newsletter: str, origin: Origin, now: datetime) -> bool:
    """Confirmed at once: the reader followed a link only their mailbox received. False when already in."""
    suppression = active_suppression(session, subscriber.email)
    if suppression is not None:
        raise Suppressed("This address cannot receive our newsletters at the moment. Please write to us.")
    subscription = _subscription(session, subscriber, newsletter)
    if subscription is None:
        subscription = Subscription(subscriber_id=subscriber.id, newsletter=newsletter, created_at=now)
        session.add(subscription)
        session.flush()
    if subscription.status is SubscriptionStatus.confirmed:
        return False
    subscription.status = SubscriptionStatus.confirmed
    subscription.confirmed_at = now
    subscription.unsubscribed_at = None
    subscription.paused_until = None
    record(session, subscription, "confirmed", origin, now, "preferences page: the reader's own link proved the address")
    session.flush()
    return True


def leave(session: Session, subscriber: Subscriber, newsletter: str, origin: Origin, now: datetime) -> bool:
    subscription = _subscription(session, subscriber, newsletter)
    return subscription is not None and unsubscribe(session, subscription, origin, now=now,
                                                    detail="preferences page") is not None


def leave_everything(session: Session, subscriber: Subscriber, origin: Origin, now: datetime) -> list[str]:
    """Out of every newsletter at once; the newsletters that changed."""
    return [s.newsletter for s in held(session, subscriber)
            if unsubscribe(session, s, origin, now=now, detail="preferences page: unsubscribe from everything")]


def pause(session: Session, subscriber: Subscriber, newsletter: str, weeks: int, origin: Origin,
          now: datetime) -> datetime:
    """No issue of this newsletter until the date returned; mail resumes by itself then."""
    if weeks not in PAUSE_WEEKS:
        raise SubscriberError(f"A pause lasts {', '.join(map(str, PAUSE_WEEKS[:-1]))} or {PAUSE_WEEKS[-1]} weeks.")
    subscription = _confirmed(session, subscriber, newsletter)
    subscription.paused_until = now + timedelta(weeks=weeks)
    record(session, subscription, "paused", origin, now,
           f"preferences page: {weeks} week{'s' if weeks > 1 else ''}, until {subscription.paused_until:%Y-%m-%d %H:%M} UTC")
    session.flush()
    return subscription.paused_until


def resume(session: Session, subscriber: Subscriber, newsletter: str, origin: Origin, now: datetime) -> bool:
    subscription = _confirmed(session, subscriber, newsletter)
    if subscription.paused_until is None or subscription.paused_until <= now:
        return False
    subscription.paused_until = None
    record(session, subscription, "resumed", origin, now, "preferences page: resume now")
    session.flush()
    return True


def set_plain_text(session: Session, subscriber: Subscriber, newsletter: str, on: bool, origin: Origin,
                   now: datetime) -> bool:
    """Plain text only (no HTML part) from the next issue on; False when it was so already."""
    subscription = _confirmed(session, subscriber, newsletter)
    if subscription.plain_text == on:
        return False
    subscription.plain_text = on
    record(session, subscription, "plain_text" if on else "html", origin, now,
           "preferences page: " + ("plain text only" if on else "the full email (HTML and text)"))
    session.flush()
    return True


def sections_value(titles: Collection[str]) -> str:
    """How a choice of sections is stored: sorted JSON, so equal choices are equal strings (an issue is rendered
    once per distinct choice)."""
    return json.dumps(sorted(set(titles)), ensure_ascii=False)


def read_sections(stored: str | None) -> frozenset[str] | None:
    """The titles a stored choice names; None: every section (no choice, or one we cannot read)."""
    if stored is None:
        return None
    try:
        titles = json.loads(stored)
    except ValueError:
        return None
    return frozenset(t for t in titles if isinstance(t, str)) if isinstance(titles, list) else None


def set_sections(session: Session, subscriber: Subscriber, newsletter: str, chosen: Collection[str],
                 offered: Collection[str], origin: Origin, now: datetime) -> bool:
    """Only these sections of the newsletter from the next issue on (all of them: every section, including any
    the newsletter adds later); False when nothing changed."""
    picked = set(chosen) & set(offered)
    if not picked:
        raise SubscriberError("Choose at least one section, or unsubscribe from this newsletter.")
    subscription = _confirmed(session, subscriber, newsletter)
    value = None if picked >= set(offered) else sections_value(picked)
    if subscription.sections == value:
        return False
    subscription.sections = value
    record(session, subscription, "sections", origin, now, "preferences page: " + (
        "every section" if value is None else "only " + ", ".join(t for t in offered if t in picked)))
    session.flush()
    return True


def set_frequency(session: Session, subscriber: Subscriber, newsletter: str, frequency: str, origin: Origin,
                  now: datetime) -> bool:
    """Every issue, or the weekly roundup instead (no daily issue); False when it was so already."""
    if frequency not in (EACH, WEEKLY):
        raise SubscriberError("Choose every issue or the weekly roundup.")
    subscription = _confirmed(session, subscriber, newsletter)
    if subscription.frequency == frequency:
        return False
    subscription.frequency = frequency
    record(session, subscription, "frequency", origin, now,
           "preferences page: " + ("the weekly roundup only" if frequency == WEEKLY else "every issue"))
    session.flush()
    return True


def _confirmed(session: Session, subscriber: Subscriber, newsletter: str) -> Subscription:
    subscription = _subscription(session, subscriber, newsletter)
    if subscription is None or subscription.status is not SubscriptionStatus.confirmed:
        raise SubscriberError("You are not subscribed to this newsletter.")
    return subscription


def _subscription(session: Session, subscriber: Subscriber, newsletter: str) -> Subscription | None:
    return session.scalar(select(Subscription).where(Subscription.subscriber_id == subscriber.id,
                                                     Subscription.newsletter == newsletter))


def held(session: Session, subscriber: Subscriber) -> list[Subscription]:
    """Every subscription the reader has, in any state, oldest first."""
    return list(session.scalars(select(Subscription).where(Subscription.subscriber_id == subscriber.id)
                                .order_by(Subscription.id)))
