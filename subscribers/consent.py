"""What every consent step shares: where it came from, the address it is about, and its record.

Kept apart from the state machine (optin) so the suppression list can record
its steps too without importing the machine that consults it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from subscribers.errors import InvalidAddress
from subscribers.models import ConsentEvent, Subscriber, Subscription

ALL = "*"  # the newsletter of a consent event that concerns every newsletter (a suppression, a complaint)

@dataclass(frozen=True)
class Origin:
    """Where a consent step came from, for the record."""

    source: str
    ip: str = ""
    user_agent: str = ""

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
           detail: str = "") -> ConsentEvent:
    event = ConsentEvent(subscriber_id=subscription.subscriber_id, newsletter=subscription.newsletter,
                         kind=kind, at=now, ip=origin.ip[:64], user_agent=origin.user_agent[:500],
                         detail=f"source={origin.source}" + (f"; {detail}" if detail else ""))
    session.add(event)
    return event

def record_for_address(session: Session, email: str, kind: str, origin: Origin, now: datetime,
                       detail: str = "") -> None:
    """An event about the address itself (newsletter "*"); nothing when we hold no record of them."""
    record_for_subscriber(session, subscriber_of(session, email), kind, origin, now, detail)


def subscriber_of(session: Session, email: str) -> int | None:
    """The id of the subscriber with this address, or None (never subscribed, or forgotten on request).

    A Core statement, not an ORM query: a flood of returned mail asks once a message, and the ORM's
    bookkeeping cost several times the SQL. What the session holds is flushed first, as the ORM's autoflush
    would, so a subscriber added in this transaction is found.
    """
    session.flush()
    return session.connection().execute(_SUBSCRIBER_ID, {"email": email}).scalar()


def record_for_subscriber(session: Session, subscriber_id: int | None, kind: str, origin: Origin, now: datetime,
                          detail: str = "") -> None:
    """record_for_address once the subscriber is known (one INSERT); nothing for None."""
    if subscriber_id is None:
        return
    session.connection().execute(_EVENTS.insert(), {
        "subscriber_id": subscriber_id, "newsletter": ALL, "kind": kind, "at": now, "ip": origin.ip[:64],
        "user_agent": origin.user_agent[:500],
        "detail": f"source={origin.source}" + (f"; {detail[:1000]}" if detail else "")})


_EVENTS = ConsentEvent.__table__
_SUBSCRIBER_ID = select(Subscriber.__table__.c.id).where(Subscriber.__table__.c.email == bindparam("email"))
