"""The suppression list and the bounce policy: addresses no issue may go to, and why.

A dead or complaining address hurts every other reader: mailbox providers
throttle, then block, senders who keep mailing unknown users (a hard bounce)
or whose complaint rate passes 0.3%. So a hard bounce suppresses at once,
soft bounces (a full mailbox, a temporary block) count one point per bounce
day until a threshold, and a complaint unsubscribes the reader from every
newsletter (optin.record_complaint). Suppression is per address, across
newsletters; each step is a ConsentEvent of newsletter "*".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from subscribers.consent import (
    Origin,
    normalize_address,
    record_for_address,
    record_for_subscriber,
    subscriber_of,
)
from subscribers.errors import SubscriberError
from subscribers.models import BounceScore, Suppression

BOUNCE_REASONS = ("hard_bounce", "soft_bounces")  # lifted by the reader's own new double opt-in


@dataclass(frozen=True)
class BouncePolicy:
    soft_threshold: float = 5.0
    soft_window: timedelta = timedelta(days=7)


def active_suppression(session: Session, email: str) -> Suppression | None:
    return session.scalar(select(Suppression).where(Suppression.email == email, Suppression.active.is_(True)))


def not_suppressed(email_column):
    """A WHERE clause: the address in `email_column` has no active suppression (one indexed lookup a row)."""
    return ~exists().where(Suppression.email == email_column, Suppression.active.is_(True))


def suppressed_among(session: Session, emails: Iterable[str]) -> set[str]:
    emails = list(emails)
    if not emails:
        return set()
    return set(session.scalars(select(Suppression.email).where(
        Suppression.email.in_(emails), Suppression.active.is_(True))))


def suppress(session: Session, email: str, reason: str, detail: str, origin: Origin, now: datetime) -> bool:
    """Suppress (or re-suppress) an address; False when it already was."""
    return _suppress(session, email, reason, detail, origin, now, subscriber_of(session, email))


def _suppress(session: Session, email: str, reason: str, detail: str, origin: Origin, now: datetime,
              subscriber_id: int | None) -> bool:
    """Core statements on the session's connection (a returned-mail flood suppresses an address a message);
    a Suppression the session already holds for it is expired, so it reads the new state."""
    connection = session.connection()
    row = connection.execute(_SUPPRESSION, {"email": email}).first()
    if row is not None and row.active:
        if reason == "complaint" and row.reason != "complaint":  # the stronger reason wins: signup cannot lift it
            _update(session, _SUPPRESSIONS, row.id, Suppression, reason=reason, detail=detail)
        return False
    state = {"active": True, "reason": reason, "detail": detail, "created_at": now, "lifted_at": None,
             "lifted_reason": ""}
    if row is None:
        connection.execute(_SUPPRESSIONS.insert(), {"email": email, **state})
    else:
        _update(session, _SUPPRESSIONS, row.id, Suppression, **state)
    record_for_subscriber(session, subscriber_id, "suppressed", origin, now,
                          f"{reason}: {detail}" if detail else reason)
    return True


def lift(session: Session, address: str, reason: str, origin: Origin, now: datetime) -> Suppression:
    """An operator lifts a suppression; the reason is required and recorded."""
    if not reason.strip():
        raise SubscriberError("say why the suppression is lifted (--reason)")
    email = normalize_address(address)
    row = active_suppression(session, email)
    if row is None:
        raise SubscriberError(f"{email} is not suppressed")
    _lift(session, row, reason.strip()[:500], origin, now)
    return row


def lift_by_signup(session: Session, email: str, origin: Origin, now: datetime) -> bool:
    """The reader confirmed a new double opt-in: their mailbox works, so a bounce suppression ends.

    A complaint's does not: that reader told their provider our mail is
    spam, and only an operator may decide to mail them again.
    """
    row = active_suppression(session, email)
    if row is None or row.reason not in BOUNCE_REASONS:
        return False
    _lift(session, row, "the reader confirmed a new signup", origin, now)
    score = session.scalar(select(BounceScore).where(BounceScore.email == email))
    if score is not None:
        session.delete(score)
    return True


def _lift(session: Session, row: Suppression, reason: str, origin: Origin, now: datetime) -> None:
    row.active, row.lifted_at, row.lifted_reason = False, now, reason
    record_for_address(session, row.email, "suppression_lifted", origin, now, f"was {row.reason}; {reason}")
    session.flush()


def record_bounce(session: Session, email: str, kind: str, detail: str, origin: Origin, now: datetime,
                  policy: BouncePolicy) -> str:
    """Apply one bounce ("hard" or "soft") to an address; returns the action taken, for the log."""
    subscriber_id = subscriber_of(session, email)
    record_for_subscriber(session, subscriber_id, f"bounce_{kind}", origin, now, detail)
    if kind == "hard":
        return "suppressed (hard bounce)" if _suppress(session, email, "hard_bounce", detail, origin, now,
                                                       subscriber_id) else "already suppressed"
    connection = session.connection()
    row = connection.execute(_SCORE, {"email": email}).first()
    score = 0.0 if row is None or now - row.last_bounce_at > policy.soft_window else row.score
    # (a stale score is forgotten: a mailbox that was full last month says nothing about today)
    if row is not None and score and row.last_bounce_at.date() == now.date():
        return f"soft bounce score {score:g}/{policy.soft_threshold:g} (already counted today)"
    score += 1.0
    if row is None:
        connection.execute(_SCORES.insert(), {"email": email, "score": score, "last_bounce_at": now})
    else:
        _update(session, _SCORES, row.id, BounceScore, score=score, last_bounce_at=now)
    if score >= policy.soft_threshold:
        if _suppress(session, email, "soft_bounces", f"score {score:g}; last: {detail}", origin, now, subscriber_id):
            return f"suppressed (soft bounce score {score:g}/{policy.soft_threshold:g})"
        return "already suppressed"
    return f"soft bounce score {score:g}/{policy.soft_threshold:g}"


def _update(session: Session, table, row_id: int, model, **values) -> None:
    session.connection().execute(table.update().where(table.c.id == row_id).values(**values))
    held = session.identity_map.get(session.identity_key(model, row_id))
    if held is not None:  # an object loaded earlier in this session would still show the old values
        session.expire(held)


def list_suppressions(session: Session, *, include_lifted: bool = False) -> list[Suppression]:
    query = select(Suppression).order_by(Suppression.email)
    if not include_lifted:
        query = query.where(Suppression.active.is_(True))
    return list(session.scalars(query))


_SUPPRESSIONS, _SCORES = Suppression.__table__, BounceScore.__table__
_SUPPRESSION = select(_SUPPRESSIONS.c.id, _SUPPRESSIONS.c.active, _SUPPRESSIONS.c.reason).where(
    _SUPPRESSIONS.c.email == bindparam("email"))
_SCORE = select(_SCORES.c.id, _SCORES.c.score, _SCORES.c.last_bounce_at).where(_SCORES.c.email == bindparam("email"))
