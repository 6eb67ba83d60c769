"""Retention: what grows with every send is removed once it is older than [retention] says.

Without it a daily newsletter to 100,000 readers grows by gigabytes a year
(issue 31). What goes: the outbox rows of sent issues (the issue keeps its
frozen counts, its archive page and the rows of the newsletter's latest
issue), feedback rows, kept mail, audit lines, article bodies (titles and
links stay for the archive) and rate-limit windows. Consent events,
subscriptions and suppressions are never touched: they are the proof and the
protection, and `subscribers forget` alone erases a person.

Work goes in small batches, each its own short transaction, and after each
batch the pruner rests nine times as long as the batch took. That alone is
not enough beside a send on SQLite: a sender finding the writer lock taken
sleeps in SQLite's coarse busy-handler steps (up to 100 ms for a lock held
5 ms), and bench/maintain_send.py measured a 20,000-reader send at about half
its rate with a pass beside it. So before each batch the pruner waits while
an issue is being sent (status "sending"), for at most WAIT_FOR_SENDS in a
pass: an issue left "sending" by a crash, or waiting hours to retry, never
stops retention for good.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from digest.models import Article, AuditEntry, Delivery, Feedback, Issue, IssueStatus, IssueVariant, KeptMail
from digest.settings import RetentionSettings
from subscribers.models import RateCount

log = logging.getLogger(__name__)
BATCH = 2000  # rows a transaction: a few milliseconds of the write lock on SQLite
REST = 9.0  # after a batch, rest this many times as long as it took
WAIT_FOR_SENDS = 3 * 3600.0  # seconds a pass waits, in all, for sends in progress to end
POLL = 5.0  # seconds between two looks at whether a send is still in progress
VACUUMED = {"deliveries": ("deliveries", "feedback", "issue_variants"), "feedback": ("feedback",),
            "kept_mail": ("kept_mail",), "audit_log": ("audit_log",), "article_text": ("articles",),
            "rate_counts": ("rate_counts",)}  # the tables each rule leaves dead rows in


def prunable_issues(session: Session, before: datetime) -> list[int]:
    """Sent issues finished before then that still have outbox rows, but never a newsletter's latest issue
    (its rows are each reader's last outcome, whatever its age)."""
    i = Issue.__table__.c
    latest = select(func.max(i.id)).where(i.status == IssueStatus.sent).group_by(i.newsletter, i.kind)
    has_rows = select(Delivery.id).where(Delivery.issue_id == i.id).exists()
    return list(session.scalars(select(i.id).where(
        i.status == IssueStatus.sent, i.final_counts.is_not(None), i.finished_at < before, i.id.not_in(latest),
        or_(has_rows, select(IssueVariant.id).where(IssueVariant.issue_id == i.id).exists())).order_by(i.id)))


class Pruner:
    """One pass over every rule; `counts` says what each removed (or, dry, would remove)."""

    def __init__(self, sessions: sessionmaker[Session], retention: RetentionSettings, now: datetime, *,
                 dry_run: bool = False, stop: threading.Event | None = None,
                 sleep: Callable[[float], object] | None = None) -> None:
        self.sessions, self.retention, self.now = sessions, retention, now
        self.dry_run, self.stop = dry_run, stop or threading.Event()
        self.sleep = sleep or self.stop.wait  # a daemon asked to stop is not kept waiting by a rest
        self.counts: dict[str, int] = {}
        self.seconds = 0.0
        self.waited = 0.0  # for sends in progress, this pass (counted in POLLs, whatever `sleep` does)

    def cutoff(self, days: int) -> datetime | None:
        return self.now - timedelta(days=days) if days > 0 else None

    def run(self) -> dict[str, int]:
        started = time.monotonic()
        r = self.retention
        for name, days, rule in (("deliveries", r.deliveries_days, self.deliveries),
                                 ("feedback", r.feedback_days, self.by_time(Feedback, Feedback.at)),
                                 ("kept_mail", r.kept_mail_days, self.by_time(KeptMail, KeptMail.received_at)),
                                 ("audit_log", r.audit_days, self.by_time(AuditEntry, AuditEntry.at)),
                                 ("article_text", r.article_text_days, self.article_text),
                                 ("rate_counts", r.rate_limit_days, self.rate_counts)):
            cutoff = self.cutoff(days)
            if cutoff is not None and not self.stop.is_set():
                self.counts[name] = rule(cutoff)
        self.vacuum()
        self.seconds = time.monotonic() - started
        return self.counts

    def vacuum(self) -> None:
        """PostgreSQL reuses the space of deleted rows only once they are vacuumed: autovacuum does it in time
        where it runs, but a table it has not reached (or a server with it off) would keep growing. A plain
        VACUUM takes no lock a sender waits for."""
        engine = self.sessions.kw["bind"]
        if self.dry_run or engine.dialect.name != "postgresql":
            return
        touched = sorted({table for name, n in self.counts.items() if n for table in VACUUMED[name]})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in touched:
                if not self.stop.is_set():
                    connection.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')

    def batches(self, step: Callable[[Session], int]) -> int:
        """Run `step` (one batch, in its own transaction) until it finds nothing, resting between batches."""
        total = 0
        while not self.stop.is_set():
            self.make_way()
            started = time.monotonic()
            with self.sessions() as session, session.begin():
                done = step(session)
            total += done
            if done < BATCH:
                return total
            self.sleep((time.monotonic() - started) * REST)
        return total

    def make_way(self) -> None:
        """Wait while an issue is being sent (see the module's docstring), up to WAIT_FOR_SENDS a pass."""
        while not self.stop.is_set() and self.waited < WAIT_FOR_SENDS and self.sending():
            if not self.waited:
                log.info("retention: an issue is being sent; waiting for it to end (at most %.0f min)",
                         WAIT_FOR_SENDS / 60)
            self.sleep(POLL)
            self.waited += POLL

    def sending(self) -> bool:
        with self.sessions() as session:
            return session.scalar(select(Issue.id).where(Issue.status == IssueStatus.sending).limit(1)) is not None

    def deliveries(self, before: datetime) -> int:
        with self.sessions() as session:
            issues = prunable_issues(session, before)
            if self.dry_run or not issues:
                return (session.scalar(select(func.count()).select_from(Delivery).where(
                    Delivery.issue_id.in_(issues))) or 0) if issues else 0
        total = 0
        for issue_id in issues:
            total += self.batches(lambda session, issue_id=issue_id: _delivery_batch(session, issue_id))
            if self.stop.is_set():
                break
            with self.sessions() as session, session.begin():  # no row uses its renderings any more
                variants = IssueVariant.__table__
                session.execute(delete(variants).where(variants.c.issue_id == issue_id))
        return total

    def by_time(self, model, column) -> Callable[[datetime], int]:
        def rule(before: datetime) -> int:
            if self.dry_run:
                with self.sessions() as session:
                    return session.scalar(select(func.count()).select_from(model).where(column < before)) or 0

            def step(session: Session) -> int:
                ids = list(session.scalars(select(model.id).where(column < before).order_by(model.id).limit(BATCH)))
                if ids:
                    session.execute(delete(model.__table__).where(model.__table__.c.id.in_(ids)))
                return len(ids)
            return self.batches(step)
        return rule

    def article_text(self, before: datetime) -> int:
        old = and_(Article.published_at < before, Article.text != "")
        if self.dry_run:
            with self.sessions() as session:
                return session.scalar(select(func.count()).select_from(Article).where(old)) or 0

        def step(session: Session) -> int:
            ids = list(session.scalars(select(Article.id).where(old).order_by(Article.id).limit(BATCH)))
            if ids:
                articles = Article.__table__
                session.execute(update(articles).where(articles.c.id.in_(ids)).values(text=""))
            return len(ids)
        return self.batches(step)

    def rate_counts(self, before: datetime) -> int:
        """Windows long past (one statement: the table is small, and `take` clears most of it as it goes).
        The one-row stamps (window 0) are kept: one a key, each a wait still owed."""
        old = and_(RateCount.window > 0, RateCount.window < int(before.timestamp()))
        with self.sessions() as session, session.begin():
            if self.dry_run:
                return session.scalar(select(func.count()).select_from(RateCount).where(old)) or 0
            return session.execute(delete(RateCount.__table__).where(old)).rowcount or 0


def _delivery_batch(session: Session, issue_id: int) -> int:
    ids = list(session.scalars(select(Delivery.id).where(Delivery.issue_id == issue_id).order_by(Delivery.id)
                               .limit(BATCH)))
    if ids:
        # Feedback keeps its own window: unlinked from the row, not deleted with it.
        feedback, deliveries = Feedback.__table__, Delivery.__table__
        session.execute(update(feedback).where(feedback.c.delivery_id.in_(ids)).values(delivery_id=None))
        session.execute(delete(deliveries).where(deliveries.c.id.in_(ids)))
    return len(ids)


def prune(sessions: sessionmaker[Session], retention: RetentionSettings, now: datetime, *, dry_run: bool = False,
          stop: threading.Event | None = None) -> Pruner:
    pruner = Pruner(sessions, retention, now, dry_run=dry_run, stop=stop)
    pruner.run()
    if not dry_run:
        log.info("retention: %s in %.1f s", ", ".join(f"{n} {name}" for name, n in pruner.counts.items()) or
                 "nothing to do", pruner.seconds)
    return pruner
