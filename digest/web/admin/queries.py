"""What the console shows, read with SQL aggregates: counts are never made by loading the rows they count.

Each function takes a session and plain values and returns plain data for a
template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.deliver import outbox
from digest.flows.feedback_counts import issue_feedback
from digest.models import AuditEntry, Issue, IssueStatus, ReviewDraft, SourceState
from subscribers.models import ConsentEvent, Subscriber, Subscription, SubscriptionStatus, Suppression

def audience(session: Session, slug: str) -> dict[str, int]:
    counts = {state.value: 0 for state in SubscriptionStatus}
    for state, count in session.execute(select(Subscription.status, func.count()).where(
            Subscription.newsletter == slug).group_by(Subscription.status)):
        counts[state.value] = count
    return counts


def suppressed(session: Session) -> int:
    """Addresses suppressed now after bounces or complaints (or by an operator), across newsletters."""
    return session.scalar(select(func.count()).select_from(Suppression).where(Suppression.active.is_(True))) or 0


@dataclass(frozen=True)
class IssueRow:
    id: int
    slot: str
    created_at: datetime
    status: str
    subject: str
    counts: dict


def issues(session: Session, slug: str | None, *, limit: int = 10, before: int | None = None) -> list[IssueRow]:
    """The newest issues (of one newsletter, or all), with delivery counts per state, newest first."""
    query = select(Issue.id, Issue.slot, Issue.created_at, Issue.status, Issue.subject, Issue.newsletter)
    if slug:
        query = query.where(Issue.newsletter == slug)
    if before:
        query = query.where(Issue.id < before)
    rows = session.execute(query.order_by(Issue.id.desc()).limit(limit)).all()
    counts = outbox.counts(session, [row.id for row in rows])
    back = issue_feedback(session, [row.id for row in rows])
    return [IssueRow(row.id, row.slot, row.created_at, row.status.value, row.subject,
                     counts[row.id] | {"newsletter": row.newsletter, "bounced": back[row.id]["hard"] +
                                       back[row.id]["soft"], "sender-side": back[row.id]["sender"],
                                       "unclassified": back[row.id]["unclassified"],
                                       "complaints": back[row.id]["complaint"]})
            for row in rows]


def sources(session: Session, urls: list[str]) -> dict[str, SourceState]:
    return {state.url: state for state in session.scalars(select(SourceState).where(SourceState.url.in_(urls)))}


def audience_by_day(session: Session, slug: str, today: date, confirmed_now: int,
                    days: int = 30) -> list[tuple[date, int]]:
    """Confirmed readers at the end of each of the last `days` days, walked back from today's count."""
    since = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), timezone.utc)
    change: dict[date, int] = {}
    for column, sign in ((Subscription.confirmed_at, 1), (Subscription.unsubscribed_at, -1)):
        day = func.date(column)
        for value, count in session.execute(select(day, func.count()).where(
                Subscription.newsletter == slug, column >= since).group_by(day)):
            key = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
            change[key] = change.get(key, 0) + sign * count
    series, level = [], confirmed_now
    for offset in range(days):
        day_ = today - timedelta(days=offset)
        series.append((day_, level))
        level -= change.get(day_, 0)
    return list(reversed(series))


def find_readers(session: Session, query: str, limit: int = 50) -> list[Subscriber]:
    """Addresses starting with `query` (an index range) when it names a mailbox ("ann@ex..."); containing it
    otherwise, which is how "@example.com" finds everyone at that domain."""
    query = query.strip().lower()[:320]
    if not query:
        return []
    if "@" in query and not query.startswith("@"):
        where = (Subscriber.email >= query) & (Subscriber.email < query + "\uffff")
    else:
        where = Subscriber.email.contains(query, autoescape=True)
    return list(session.scalars(select(Subscriber).where(where).order_by(Subscriber.email).limit(limit)))


def reader(session: Session, subscriber_id: int) -> tuple[Subscriber, list[Subscription], list[ConsentEvent]] | None:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None
    subs = list(session.scalars(select(Subscription).where(Subscription.subscriber_id == subscriber_id)
                                .order_by(Subscription.newsletter)))
    events = list(session.scalars(select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber_id)
                                  .order_by(ConsentEvent.id.desc()).limit(200)))
    return subscriber, subs, events


def drafts(session: Session, slug: str | None = None, limit: int = 30) -> list[ReviewDraft]:
    query = select(ReviewDraft).order_by(ReviewDraft.id.desc()).limit(limit)
    if slug:
        query = query.where(ReviewDraft.newsletter == slug)
    return list(session.scalars(query))


def draft_of_issue(session: Session, issue_id: int) -> ReviewDraft | None:
    return session.scalar(select(ReviewDraft).where(ReviewDraft.issue_id == issue_id))


# A complaint rate above this on a recent issue is flagged (Google's bulk-sender guidance: stay under 0.1 %,
# never reach 0.3 %).
COMPLAINT_ALARM = 0.001


def needs_doing(session: Session, newsletters, standings, now: datetime) -> list[dict]:
    """What an operator should look at now, most urgent first: (kind, newsletter slug, text, link) rows."""
    todo: list[dict] = []
    titles = {n.slug: n.title for n in newsletters}
    for slug, state, count in session.execute(
            select(ReviewDraft.newsletter, ReviewDraft.state, func.count())
            .where(ReviewDraft.state.in_(("review", "approved", "held"))).group_by(ReviewDraft.newsletter,
                                                                                   ReviewDraft.state)):
        if slug in titles:
            words = {"review": "waiting for review", "approved": "approved, waiting for the slot",
                     "held": "held: not approved in time"}[state]
            todo.append({"kind": "held" if state == "held" else "review", "newsletter": slug,
                         "text": f"{titles[slug]}: {count} draft{'s' if count > 1 else ''} {words}",
                         "link": "/admin/review"})
    for issue in session.execute(select(Issue.id, Issue.newsletter, Issue.subject, Issue.paused_reason)
                                 .where(Issue.status == IssueStatus.paused).order_by(Issue.id.desc()).limit(20)):
        todo.append({"kind": "paused", "newsletter": issue.newsletter, "link": f"/admin/issues/{issue.id}",
                     "text": f"Issue paused: {issue.subject} ({issue.paused_reason or 'no reason recorded'})"})
    for newsletter in newsletters:
        states = sources(session, [s.url for s in newsletter.sources])
        for source in newsletter.sources:
            state = states.get(source.url)
            if state is not None and state.failures:
                todo.append({"kind": "source", "newsletter": newsletter.slug,
                             "link": f"/admin/newsletters/{newsletter.slug}",
                             "text": f"{newsletter.title}: source {source.name} failed {state.failures} time"
                                     f"{'s' if state.failures > 1 else ''} in a row ({state.last_error or 'error'})"})
    for s in standings:
        if s.verdict.startswith("ALARM"):
            todo.append({"kind": "reputation", "newsletter": "", "link": "/admin#reputation",
                         "text": f"{s.domain} refuses our mail: {s.sender_side} of {s.sent} ({s.share:.0%})"})
    since = now - timedelta(days=14)
    recent = session.execute(select(Issue.id, Issue.newsletter, Issue.subject).where(Issue.created_at >= since)
                             .order_by(Issue.id.desc()).limit(30)).all()
    if recent:
        counts, back = outbox.counts(session, [r.id for r in recent]), issue_feedback(session, [r.id for r in recent])
        for row in recent:
            sent, complaints = counts[row.id]["sent"], back[row.id]["complaint"]
            if sent and complaints / sent > COMPLAINT_ALARM:
                todo.append({"kind": "complaints", "newsletter": row.newsletter, "link": f"/admin/issues/{row.id}",
                             "text": f"Complaints on {row.subject}: {complaints} of {sent} sent "
                                     f"({complaints / sent:.2%}; keep under {COMPLAINT_ALARM:.1%})"})
    order = {"held": 0, "paused": 1, "reputation": 2, "complaints": 3, "review": 4, "source": 5}
    return sorted(todo, key=lambda t: order[t["kind"]])


def waiting_for_review(session: Session) -> int:
    """Drafts an editor has still to act on: the count beside the console's Review link."""
    return session.scalar(select(func.count()).select_from(ReviewDraft).where(ReviewDraft.state == "review")) or 0


def draft_history(session: Session, draft_id: int) -> list[AuditEntry]:
    """What was done to a draft since it was made (edits, approvals with their comments), oldest first."""
    mine = f"draft:{draft_id}"
    return list(session.scalars(select(AuditEntry).where(
        (AuditEntry.target == mine) | AuditEntry.target.startswith(mine + " ")).order_by(AuditEntry.id).limit(200)))
