"""How each receiving domain treats us: the bounces that blame the sender, and the pause they can cause.

A blocklisted IP, a failing SPF record or a rate limit makes a receiving
domain refuse every reader there. Those bounces never touch the readers;
they count here instead, per domain, and when one issue's deliveries to a
domain come back sender-side too often (bounces.sender_side_pause_share of
them, at least bounces.sender_side_min) the issue pauses, as it does after
too many failures in a row, so we stop spending the newsroom's reputation
until someone looks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest import metrics
from digest.deliver import outbox
from digest.models import Delivery, DeliveryStatus, Feedback, Issue, IssueStatus
from digest.settings import BounceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Standing:
    domain: str
    sent: int  # our deliveries there in the window (sent, or refused at our relay)
    sender_side: int
    share: float
    verdict: str


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()[:255]


def check_issue(session: Session, bounces: BounceSettings, delivery: Delivery, last: str) -> str | None:
    """After a sender-side bounce of this delivery: pause its issue if its domain now refuses too much."""
    if not bounces.sender_side_pause_share:
        return None
    domain = domain_of(delivery.email)
    count = session.scalar(select(func.count()).select_from(Feedback).where(
        Feedback.issue_id == delivery.issue_id, Feedback.domain == domain, Feedback.side == "sender")) or 0
    # Counting the issue's deliveries to the domain reads its outbox: only at the minimum, then every few more.
    if count < bounces.sender_side_min or (count - bounces.sender_side_min) % max(1, bounces.sender_side_min // 2):
        return None
    if session.scalar(select(Issue.status).where(Issue.id == delivery.issue_id)) is not IssueStatus.sending:
        return None
    sent = session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.issue_id == delivery.issue_id, _to(domain),
        Delivery.status.in_((DeliveryStatus.sent, DeliveryStatus.failed)))) or 0
    share = count / max(sent, count)
    if share < bounces.sender_side_pause_share:
        return None
    reason = (f"{domain} refuses us: {count} of {max(sent, count)} deliveries there came back blaming the sender "
              f"({share:.0%}); last: {last[:200]}")
    outbox.pause(session, delivery.issue_id, reason)
    metrics.SENDER_SIDE_ALARMS.inc()
    log.error("ALARM: issue %d paused: %s", delivery.issue_id, reason)
    return reason


def standings(session: Session, bounces: BounceSettings, now: datetime, limit: int = 10) -> list[Standing]:
    """The receiving domains that refused us most in the window, with the share of what we sent there."""
    since = now - timedelta(hours=bounces.reputation_window_hours)
    rows = session.execute(select(Feedback.domain, func.count()).where(
        Feedback.side == "sender", Feedback.at >= since, Feedback.domain != "").group_by(Feedback.domain)
        .order_by(func.count().desc(), Feedback.domain).limit(limit)).all()
    found = []
    recent = select(Issue.id).where(Issue.created_at >= since).scalar_subquery()
    for domain, count in rows:
        sent = session.scalar(select(func.count()).select_from(Delivery).where(
            _to(domain), Delivery.sent_at >= since)) or 0
        sent += session.scalar(select(func.count()).select_from(Delivery).where(  # refused at our relay
            _to(domain), Delivery.status == DeliveryStatus.failed, Delivery.issue_id.in_(recent))) or 0
        share = count / max(sent, count)
        found.append(Standing(domain, max(sent, count), count, share, verdict(share, count, bounces)))
    return found


def verdict(share: float, count: int, bounces: BounceSettings) -> str:
    pause = bounces.sender_side_pause_share or 1.0
    if count >= bounces.sender_side_min and share >= pause:
        return f"ALARM: refuses us ({share:.0%} sender-side, pause at {pause:.0%})"
    if share >= pause / 4:
        return "warning: refusing some of our mail"
    return "ok"


def _to(domain: str):
    escaped = domain.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Delivery.email.like(f"%@{escaped}", escape="\\")


__all__ = ["Standing", "check_issue", "domain_of", "standings", "verdict"]
