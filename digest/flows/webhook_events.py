"""Webhook events, derived from the rows that already record each change in the change's own transaction.

Every change a webhook reports is written, with the change, to a durable row:
a reader's to the consent record (a signup, a confirmation, an unsubscribe, a
preference, a suppression, a bounce, a complaint: whichever code path made it,
the CLI, the console, the API, the reader's pages or returned mail), a draft
to review_drafts, an approval to the audit log, an issue to issues. This pump
reads those rows past a stored position and turns each into an event keyed by
the row (`msg_ce_<id>` ...), with one queued attempt per endpoint that wants its
type, in one transaction with the new position. Reading a row twice makes the
same event, never a second; a crash between reads loses nothing. On a database
where ids may commit out of order (PostgreSQL's sequences), the position only
passes rows older than LAG, so a late commit is still read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from digest.models import AuditEntry, Issue, IssueStatus, ReviewDraft
from digest.models_api import WebhookAttempt, WebhookEvent, WebhookState
from digest.settings import WebhookSettings
from subscribers.models import ConsentEvent, Subscriber

LAG = timedelta(seconds=30)
BATCH = 1000
PAGES = 20  # rows read per source and round: at most BATCH * PAGES
_AHEAD: dict[tuple[str, str], tuple[int, datetime]] = {}  # per process: (read up to, last re-read from the cursor)
# Consent record kinds -> event types (kinds not named here, e.g. "resent", report nothing).
CONSENT_TYPES = {
    "requested": "subscriber.pending", "confirmed": "subscriber.confirmed", "resubscribed": "subscriber.confirmed",
    "unsubscribed": "subscriber.unsubscribed", "suppressed": "subscriber.suppressed",
    "bounce_hard": "subscriber.bounced", "bounce_soft": "subscriber.bounced", "complaint": "subscriber.complained",
    **{kind: "subscriber.preferences_changed" for kind in (
        "paused", "resumed", "plain_text", "html", "sections", "frequency", "address_changed")},
}


def pump(session: Session, endpoints: Iterable[WebhookSettings], now: datetime) -> int:
    """New events since the stored positions, queued for each endpoint that wants them; how many were made."""
    endpoints = list(endpoints)
    if not endpoints:
        return 0
    made = 0
    for name, rows, table in (("consent", _consent(session), ConsentEvent), ("drafts", _drafts(session), ReviewDraft),
                              ("approvals", _approvals(session), AuditEntry), ("issues", _issues(session), Issue)):
        state = _state(session, f"cursor:{name}", table)
        # Rows this process read already and younger than LAG are read again only every LAG / 3 (a late commit
        # lands among them), not every round: a burst of thousands would be re-read every two seconds.
        key = (str(session.get_bind().url), name)
        ahead, checked = _AHEAD.get(key, (state.cursor, now))
        recheck = now - checked >= LAG / 3 or ahead < state.cursor
        seen, after = [], state.cursor if recheck else ahead
        for _page in range(PAGES):  # past young rows too (a burst is not held back LAG), within a bound
            found = rows(after)
            made += _queue(session, [(key, kind, data, at) for _row_id, key, kind, data, at in found], endpoints, now)
            seen += [(row_id, at) for row_id, *_rest, at in found]
            if len(found) < BATCH:
                break
            after = found[-1][0]
        state.cursor = _advance(state.cursor, seen, now) if recheck else state.cursor
        _AHEAD[key] = (max([ahead, *[row_id for row_id, _at in seen]]), now if recheck else checked)
    made += _queue(session, _paused(session), endpoints, now)
    return made


def _consent(session: Session):
    def rows(after: int):
        c = ConsentEvent.__table__.c  # Core rows: a burst of thousands is read without an ORM object each
        query = (select(c.id, c.kind, c.newsletter, c.detail, c.at, Subscriber.__table__.c.email)
                 .join(Subscriber.__table__, Subscriber.__table__.c.id == c.subscriber_id)
                 .where(c.id > after).order_by(c.id).limit(BATCH))
        out = []
        for event in session.execute(query):
            email = event.email
            kind = CONSENT_TYPES.get(event.kind)
            if kind is not None:
                out.append((event.id, f"msg_ce_{event.id}", kind, {
                    "email": email, "newsletter": None if event.newsletter == "*" else event.newsletter,
                    "change": event.kind, "detail": event.detail, "at": event.at.isoformat()}, event.at))
            else:
                out.append((event.id, "", "", {}, event.at))
        return out
    return rows


def _drafts(session: Session):
    def rows(after: int):
        return [(d.id, f"msg_rd_{d.id}", "issue.drafted", {
            "draft": d.id, "newsletter": d.newsletter, "slot_at": d.slot_at.isoformat()}, d.created_at)
            for d in session.scalars(select(ReviewDraft).where(ReviewDraft.id > after).order_by(ReviewDraft.id)
                                     .limit(BATCH))]
    return rows


def _approvals(session: Session):
    def rows(after: int):
        out = []  # approvals only: the audit log also holds a line for every API request
        for a in session.scalars(select(AuditEntry).where(AuditEntry.id > after, AuditEntry.action == "draft.approve")
                                 .order_by(AuditEntry.id).limit(BATCH)):
            draft = a.target.split(":", 1)[1] if a.target.startswith("draft:") else ""
            out.append((a.id, f"msg_au_{a.id}", "issue.approved", {"draft": int(draft), "by": a.operator,
                                                                   "detail": a.detail, "at": a.at.isoformat()}, a.at)
                       if draft.isdigit() else (a.id, "", "", {}, a.at))
        return out
    return rows


def _issues(session: Session):
    def rows(after: int):
        return [(i.id, f"msg_is_{i.id}", "issue.sent", {
            "issue": i.id, "newsletter": i.newsletter, "kind": i.kind, "subject": i.subject,
            "at": i.created_at.isoformat()}, i.created_at)
            for i in session.scalars(select(Issue).where(Issue.id > after).order_by(Issue.id).limit(BATCH))]
    return rows


def _paused(session: Session) -> list[tuple[str, str, dict, datetime]]:
    """Paused issues are few and their rows change in place: each pause (issue, reason) is one event."""
    out = []
    for i in session.scalars(select(Issue).where(Issue.status == IssueStatus.paused).limit(BATCH)):
        reason = i.paused_reason or "paused"
        key = f"msg_ip_{i.id}_{hashlib.sha256(reason.encode()).hexdigest()[:16]}"
        out.append((key, "issue.paused", {"issue": i.id, "newsletter": i.newsletter, "reason": reason},
                    i.created_at))
    return out


def _queue(session: Session, events: list, endpoints: list[WebhookSettings], now: datetime) -> int:
    wanted = [(key, kind, data, at) for key, kind, data, at in events if key]
    if not wanted:
        return 0
    known = set(session.scalars(select(WebhookEvent.event_id).where(
        WebhookEvent.event_id.in_([key for key, *_ in wanted]))))
    fresh = [{"event_id": key, "type": kind, "at": now, "payload": json.dumps(
        {"type": kind, "timestamp": at.isoformat(), "data": data}, ensure_ascii=False)}
        for key, kind, data, at in wanted if key not in known]
    if not fresh:
        return 0
    table = WebhookEvent.__table__  # Core rows in one batch, their ids returned in order: no ORM object each
    ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), fresh).scalars().all()
    attempts = [{"event_id": event_id, "endpoint": endpoint.name, "status": "queued", "attempts": 0,
                 "next_attempt_at": now, "last_error": ""}
                for event_id, event in zip(ids, fresh, strict=True) for endpoint in endpoints
                if event["type"] in endpoint.events]
    if attempts:
        session.execute(insert(WebhookAttempt.__table__), attempts)
    return len(fresh)


def _advance(cursor: int, seen: list[tuple[int, datetime]], now: datetime) -> int:
    """Past every row read that is older than LAG, up to the first younger one (read again next time)."""
    for row_id, at in seen:
        if at > now - LAG:
            break
        cursor = row_id
    return cursor


def _state(session: Session, name: str, table) -> WebhookState:
    """A source's read position; the first time, past everything already there: webhooks report what happens
    from when they are configured, not the site's history."""
    state = session.get(WebhookState, name)
    if state is None:
        start = session.scalar(select(func.max(table.id))) or 0
        state = WebhookState(name=name, failures_in_a_row=0, last_error="", cursor=start)
        session.add(state)
        session.flush()
    return state


__all__ = ["CONSENT_TYPES", "LAG", "pump"]
