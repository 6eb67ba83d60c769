"""A reader moves to a new address: asked on their page, confirmed from the new mailbox, told to the old one.

The request is a timed, signed token naming the reader, the address they move
from and the one they move to; nothing is stored until the new mailbox
confirms. It works once: after the move the reader's address is no longer the
one it names. A new address that is suppressed or already another reader's is
refused with one message that does not say which. What moves is the person's:
their subscriptions with their choices (pause, plain text), their consent
history (each subscription records the change), and a suppression they asked
for (a complaint, an operator's); a bounce suppression is about the old mailbox
and stays with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.consent import Origin, normalize_address, record
from subscribers.errors import InvalidToken, SubscriberError
from subscribers.models import Subscriber, Subscription
from subscribers.suppression import active_suppression, suppress

REFUSED = "We cannot move your subscriptions to this address. Please write to us if you think this is wrong."
PERSONAL_REASONS = ("complaint", "operator")  # suppressions about the person, not about a mailbox


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="digest address change")


def request_move(session: Session, secret: str, subscriber: Subscriber, new_address: str) -> tuple[str, str]:
    """(the new address, normalized; the token its confirmation link carries). Raises SubscriberError."""
    new = normalize_address(new_address)
    if new == subscriber.email:
        raise SubscriberError("That is already your address.")
    _check_free(session, subscriber, new)
    return new, _serializer(secret).dumps([subscriber.id, subscriber.email, new])


def read_move(session: Session, secret: str, token: str, max_age: timedelta) -> tuple[Subscriber, str, str]:
    """(the reader, old address, new address) of a still-valid move link."""
    try:
        subscriber_id, old, new = _serializer(secret).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise InvalidToken("This link has expired. Ask for the change again on your subscriptions page.") from None
    except (BadSignature, ValueError, TypeError):
        raise InvalidToken("This link is not valid. Check that you copied the whole link.") from None
    subscriber = session.get(Subscriber, int(subscriber_id))
    if subscriber is None or subscriber.email != old:
        raise InvalidToken("This link has been used already, or your address changed since.")
    return subscriber, str(old), str(new)


def move(session: Session, secret: str, token: str, origin: Origin, now: datetime, max_age: timedelta
         ) -> tuple[Subscriber, str]:
    """Confirmed from the new mailbox: the reader's address becomes the new one; returns (reader, old address)."""
    subscriber, old, new = read_move(session, secret, token, max_age)
    _check_free(session, subscriber, new)
    personal = active_suppression(session, old)
    subscriber.email = new
    for subscription in session.scalars(select(Subscription).where(Subscription.subscriber_id == subscriber.id)):
        record(session, subscription, "address_changed", origin, now, f"from {old} to {new}, confirmed from {new}")
    if personal is not None and personal.reason in PERSONAL_REASONS:
        suppress(session, new, personal.reason, f"moved from {old}: {personal.detail}", origin, now)
    session.flush()
    return subscriber, old


def _check_free(session: Session, subscriber: Subscriber, new: str) -> None:
    other = session.scalar(select(Subscriber.id).where(Subscriber.email == new))
    if (other is not None and other != subscriber.id) or active_suppression(session, new) is not None:
        raise SubscriberError(REFUSED)


def masked(address: str) -> str:
    """"a***@example.com": enough for the old mailbox to recognise the move, not to learn the new address."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"
