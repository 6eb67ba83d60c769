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

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from subscribers.consent import Origin, normalize_address, record_for_address
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
    row = session.scalar(select(Suppression).where(Suppression.email == email))
    if row is not None and row.active:
        if reason == "complaint" and row.reason != "complaint":  # the stronger reason wins: signup cannot lift it
            row.reason, row.detail = reason, detail
        return False
    if row is None:
        row = Suppression(email=email)
        session.add(row)
    row.active, row.reason, row.detail, row.created_at = True, reason, detail, now
    row.lifted_at, row.lifted_reason = None, ""
    record_for_address(session, email, "suppressed", origin, now, f"{reason}: {detail}" if detail else reason)
    session.flush()
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
    record_for_address(session, email, f"bounce_{kind}", origin, now, detail)
    if kind == "hard":
        return "suppressed (hard bounce)" if suppress(session, email, "hard_bounce", detail, origin, now) \
            else "already suppressed"
    score = session.scalar(select(BounceScore).where(BounceScore.email == email))
    if score is None:
        score = BounceScore(email=email, score=0.0, last_bounce_at=now)
        session.add(score)
    elif now - score.last_bounce_at > policy.soft_window:
        score.score = 0.0  # stale: a mailbox that was full last month says nothing about today
    elif score.score and score.last_bounce_at.date() == now.date():
        return f"soft bounce score {score.score:g}/{policy.soft_threshold:g} (already counted today)"
    score.score += 1.0
    score.last_bounce_at = now
    session.flush()
    if score.score >= policy.soft_threshold:
        if suppress(session, email, "soft_bounces", f"score {score.score:g}; last: {detail}", origin, now):
            return f"suppressed (soft bounce score {score.score:g}/{policy.soft_threshold:g})"
        return "already suppressed"
    return f"soft bounce score {score.score:g}/{policy.soft_threshold:g}"


def list_suppressions(session: Session, *, include_lifted: bool = False) -> list[Suppression]:
    query = select(Suppression).order_by(Suppression.email)
    if not include_lifted:
        query = query.where(Suppression.active.is_(True))
    return list(session.scalars(query))

