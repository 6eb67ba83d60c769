"""What came back, counted: per issue, per person (for export) and the complaint rate providers judge us by."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.models import Delivery, DeliveryStatus, Feedback

WARN_RATE, ALARM_RATE = 0.001, 0.003  # complaint rates where Gmail and Yahoo start to throttle, then block


COUNTED = ("hard", "soft", "sender", "unclassified", "complaint", "report", "auto_reply", "delivered", "delayed")


def issue_feedback(session: Session, issue_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per issue: bounces that blame the reader (hard, soft), the sender (sender) or nobody we could tell
    (unclassified), complaints, reports, auto-replies and notices recorded (one query)."""
    result = {issue_id: dict.fromkeys(COUNTED, 0) for issue_id in issue_ids}
    if issue_ids:
        for issue_id, kind, side, count in session.execute(
                select(Feedback.issue_id, Feedback.kind, Feedback.side, func.count())
                .where(Feedback.issue_id.in_(issue_ids)).group_by(Feedback.issue_id, Feedback.kind, Feedback.side)):
            key = kind if kind != "soft" else {"reader": "soft", "sender": "sender"}.get(side, "unclassified")
            result[issue_id][key] = result[issue_id].get(key, 0) + count
    return result


def issue_reasons(session: Session, issue_id: int) -> list[tuple[str, str, str, int]]:
    """(kind, side, reason, count) of one issue's bounces, most first: what an operator reads to know why."""
    return [tuple(row) for row in session.execute(
        select(Feedback.kind, Feedback.side, Feedback.reason, func.count()).where(
            Feedback.issue_id == issue_id, Feedback.kind.in_(("hard", "soft")))
        .group_by(Feedback.kind, Feedback.side, Feedback.reason).order_by(func.count().desc(), Feedback.reason))]


def person_feedback(session: Session, email: str) -> list[dict]:
    """Every bounce and complaint recorded for one address, with its reason, for `subscribers export ADDRESS`."""
    return [{"at": row.at.isoformat(), "kind": row.kind, "reason": row.reason, "side": row.side,
             "status": row.status, "issue_id": row.issue_id, "reporting_mta": row.reporting_mta,
             "diagnostic": row.diagnostic, "action": row.action}
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


__all__ = ["ALARM_RATE", "COUNTED", "WARN_RATE", "complaint_rate", "issue_feedback", "issue_reasons",
           "person_feedback", "rate_verdict"]
