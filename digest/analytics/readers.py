"""Clicks tied to a reader (analytics.per_reader): the reader's switch, what is held about them, and erasure.

Per-reader counting is the operator's choice and off by default; a reader
who switches it off gets aggregate links from the next issue, and a click
from an older copy of theirs is counted without their id. `digest
subscribers export ADDRESS` lists a reader's clicks and `forget` erases the
reader from them (the click stays in the counts, nobody's). Only readers
still subscribed to something are written: a forgotten reader's old copy
counts for nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from digest.models import Issue
from digest.models_clicks import Click, ClickLink, ClickOptOut
from subscribers.models import Subscriber, Subscription


def opted_out(session: Session, subscriber_id: int) -> bool:
    return session.get(ClickOptOut, subscriber_id) is not None


def all_opted_out(session: Session) -> frozenset[int]:
    return frozenset(session.scalars(select(ClickOptOut.subscriber_id)))


def set_counted(session: Session, subscriber_id: int, counted: bool, at: datetime) -> None:
    """The reader's switch: counted (their links carry their part) or not (aggregate links only)."""
    row = session.get(ClickOptOut, subscriber_id)
    if counted and row is not None:
        session.delete(row)
    elif not counted and row is None:
        session.add(ClickOptOut(subscriber_id=subscriber_id, at=at))
    session.flush()


def recordable(session: Session, subscriber_ids: Iterable[int]) -> set[int]:
    """Of these readers, those whose id may go with their click: subscribed to something, not opted out."""
    wanted = set(subscriber_ids)
    if not wanted:
        return set()
    held = set(session.scalars(select(Subscription.subscriber_id).where(Subscription.subscriber_id.in_(wanted))))
    return held - set(session.scalars(select(ClickOptOut.subscriber_id).where(ClickOptOut.subscriber_id.in_(held))))


def reader_clicks(session: Session, email: str) -> dict:
    """What is held about one reader's clicks, JSON-ready (for `digest subscribers export ADDRESS`)."""
    subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.email == email))
    rows = session.execute(
        select(Click.at, Click.verdict, Issue.newsletter, Click.issue_id, ClickLink.url, ClickLink.kind)
        .join(Issue, Issue.id == Click.issue_id)
        .join(ClickLink, (ClickLink.issue_id == Click.issue_id) & (ClickLink.number == Click.number))
        .where(Click.subscriber_id == subscriber_id).order_by(Click.at))
    out = {"per_reader_counting": "off (opted out)" if opted_out(session, subscriber_id) else "on if the site counts",
           "clicks": [{"at": at.isoformat(), "newsletter": newsletter, "issue": issue_id, "url": url,
                       "kind": kind, "verdict": verdict}
                      for at, verdict, newsletter, issue_id, url, kind in rows]}
    return out


def forget_reader(session: Session, subscriber_id: int) -> int:
    """Erase the reader from their clicks (the counts stay) and their switch; returns how many clicks."""
    session.execute(delete(ClickOptOut).where(ClickOptOut.subscriber_id == subscriber_id))
    return session.execute(update(Click).where(Click.subscriber_id == subscriber_id)
                           .values(subscriber_id=None)).rowcount or 0


__all__ = ["all_opted_out", "forget_reader", "opted_out", "reader_clicks", "recordable", "set_counted"]
