"""What came back, counted: per issue, per person (for export) and the complaint rate providers judge us by."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.models import Delivery, DeliveryStatus, Feedback

WARN_RATE, ALARM_RATE = 0.001, 0.003  # complaint rates where Gmail and Yahoo start to throttle, then block


def issue_feedback(session: Session, issue_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per issue: hard and soft bounces, complaints and auto-replies recorded (one query)."""
    result = {issue_id: {"hard": 0, "soft": 0, "complaint": 0, "auto_reply": 0} for issue_id in issue_ids}
    if issue_ids:
        for issue_id, kind, count in session.execute(
                select(Feedback.issue_id, Feedback.kind, func.count()).where(Feedback.issue_id.in_(issue_ids))
                .group_by(Feedback.issue_id, Feedback.kind)):
            result[issue_id][kind] = count
    return result


def person_feedback(session: Session, email: str) -> list[dict]:
    """Every bounce and complaint recorded for one address, for `subscribers export ADDRESS`."""
    return [{"at": row.at.isoformat(), "kind": row.kind, "status": row.status, "issue_id": row.issue_id,
             "reporting_mta": row.reporting_mta, "diagnostic": row.diagnostic, "action": row.action}
            for row in session.scalars(select(Feedback).where(Feedback.email == email).order_by(Feedback.id))]


def complaint_rate(session: Session, now: datetime, days: int = 30) -> tuple[int, int, float]:
    """(complaints, messages sent, rate) over the last `days`: what mailbox providers judge us by."""
    since = now - timedelta(days=days)
    complaints = session.scalar(select(func.count()).select_from(Feedback).where(
        Feedback.kind == "complaint", Feedback.at >= since)) or 0
    sent = session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.status == DeliveryStatus.sent, Delivery.sent_at >= since)) or 0
    return complaints, sent, (complaints / sent if sent else 0.0)


def rate_verdict(rate: float) -> str:
    if rate > ALARM_RATE:
        return "ALARM: above 0.3%, where Gmail and Yahoo block senders"
    if rate > WARN_RATE:
        return "warning: above 0.1%, where Gmail and Yahoo start to throttle"
    return "ok"


__all__ = ["ALARM_RATE", "WARN_RATE", "complaint_rate", "issue_feedback", "person_feedback", "rate_verdict"]
