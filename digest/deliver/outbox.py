"""The outbox in the database: claiming deliveries with a lease, recording outcomes, counting.

Several senders (threads of one process, or `digest worker` processes on
several machines) share one issue through these functions. A claim is one
UPDATE of up to N queued rows whose lease is free; on PostgreSQL the rows are
picked with FOR UPDATE SKIP LOCKED so concurrent claims never block or
overlap, and on SQLite the single writer lock gives the same guarantee.
"""

from __future__ import annotations

import functools
import json
import operator
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, exists, func, literal_column, null, or_, select, update
from sqlalchemy.orm import Session

from digest.models import Delivery, DeliveryStatus, Issue, IssueStatus
from subscribers.models import Subscriber, Subscription, SubscriptionStatus
from subscribers.suppression import not_suppressed


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    subscriber_id: int
    email: str
    attempts: int
    plain_text: bool = False  # the reader takes this newsletter as text only
    variant_id: int | None = None  # the issue as rendered for the reader's sections; None: the whole issue


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed delivery; `retry_at` set means "queued again until then"."""

    delivery_id: int
    status: DeliveryStatus
    error: str | None = None
    retry_at: datetime | None = None
    at: datetime | None = None  # when the server answered (sent_at), if not the time of recording


def make_owner() -> str:
    """host:pid:random, so a restarted sender can tell its dead predecessor's leases."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


def claim(session: Session, issue_id: int, owner: str, now: datetime, lease: timedelta,
          size: int) -> list[Claimed]:
    # Core statements on the tables (not the ORM entities): the ORM's bulk-update path cost a
    # sixth of a sender's CPU here, once a batch.
    d = Delivery.__table__.c
    free = (
        select(d.id)
        .where(d.issue_id == issue_id, d.status == DeliveryStatus.queued,
               or_(d.lease_until.is_(None), d.lease_until < now),
               or_(d.lease_owner.is_(None), d.lease_owner != owner),
               or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now))
        .order_by(d.id)
        .limit(size)
    )
    if session.get_bind().dialect.name == "postgresql":
        free = free.with_for_update(skip_locked=True)
    rows = session.execute(
        update(Delivery.__table__)
        .where(d.id.in_(free.scalar_subquery()))
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(d.id, d.subscriber_id, d.email, d.attempts, d.plain_text, d.variant_id)
    ).all()
    return sorted((Claimed(row[0], row[1], row[2], row[3], bool(row[4]), row[5]) for row in rows),
                  key=lambda c: c.delivery_id)


def still_confirmed(session: Session, newsletter: str, subscriber_ids: Iterable[int],
                    now: datetime | None = None) -> set[int]:
    """Who of these may still receive the issue (someone may have unsubscribed, paused, bounced or complained
    mid-send)."""
    ids = list(subscriber_ids)
    if not ids:
        return set()
    s, people = Subscription.__table__.c, Subscriber.__table__.c
    # Driven by the id list, each subscription found by its unique (subscriber, newsletter) key: written as
    # a join, SQLite chose the (newsletter, status) index and read every confirmed row (93 ms a claim
    # with 1,000,000 readers instead of 1 ms).
    return set(session.scalars(select(people.id).where(
        people.id.in_(ids), not_suppressed(people.email), exists().where(
            s.subscriber_id == people.id, s.newsletter == newsletter, s.status == SubscriptionStatus.confirmed,
            *([or_(s.paused_until.is_(None), s.paused_until <= now)] if now is not None else [])))))


def record(session: Session, outcomes: Sequence[Outcome], now: datetime, owner: str) -> None:
    """Write a batch of outcomes and free their leases, in the caller's transaction.

    Only rows this owner still holds are written: a row whose lease ran out and
    went to another sender is that sender's to record.
    """
    sent = [o for o in outcomes if o.status is DeliveryStatus.sent]
    if sent:  # the common case in one executemany: a per-row ORM UPDATE cost half the sender's CPU
        connection = session.connection()
        sql, positional, stamp = _record_sent_statement(connection.dialect)
        rows = [{"b_id": o.delivery_id, "b_at": stamp(o.at or now), "b_owner": owner} for o in sent]
        connection.exec_driver_sql(sql, list(map(positional, rows)) if positional else rows)
    for outcome in outcomes:
        if outcome.status is DeliveryStatus.sent:
            continue
        values = {"status": outcome.status, "last_error": outcome.error, "lease_owner": None,
                  "lease_until": None, "next_attempt_at": outcome.retry_at}
        if outcome.status is not DeliveryStatus.skipped:
            values["attempts"] = Delivery.attempts + 1
        session.execute(update(Delivery).where(Delivery.id == outcome.delivery_id, Delivery.lease_owner == owner)
                        .values(**values).execution_options(synchronize_session=False))


def failures_in_a_row(session: Session, issue_id: int, outcomes: Sequence[Outcome]) -> int:
    """Add a batch of outcomes to the issue's run of failures, counted across every process sending it (a
    success anywhere ends the run); returns the run now. In the caller's transaction, beside `record`."""
    trailing, failures, success = 0, 0, False
    for outcome in outcomes:
        if outcome.status is DeliveryStatus.sent:
            success, trailing = True, 0
        elif outcome.status is DeliveryStatus.failed or (outcome.status is DeliveryStatus.queued and outcome.error):
            trailing, failures = trailing + 1, failures + 1
    issue = Issue.__table__
    if success:
        session.execute(issue.update().where(issue.c.id == issue_id, issue.c.failures_in_a_row != trailing)
                        .values(failures_in_a_row=trailing))
        return trailing
    if failures:
        session.execute(issue.update().where(issue.c.id == issue_id)
                        .values(failures_in_a_row=issue.c.failures_in_a_row + failures))
    return session.scalar(select(issue.c.failures_in_a_row).where(issue.c.id == issue_id)) or 0


@functools.lru_cache(maxsize=4)
def _record_sent_statement(dialect) -> tuple[str, Callable | None, Callable]:
    """The "sent" UPDATE compiled once for this database, what turns a row's named parameters into its
    positional ones (None where the driver takes names), and the bind processor of sent_at. Per row only the id and the time vary: through session.execute,
    SQLAlchemy's per-row parameter handling cost more than SQLite's own work (bench/README.md, issue 17)."""
    table = Delivery.__table__
    statement = (table.update()
                 .where(table.c.id == bindparam("b_id"), table.c.lease_owner == bindparam("b_owner"))
                 .values(status=literal_column(f"'{DeliveryStatus.sent.name}'"), last_error=null(),
                         lease_owner=null(), lease_until=null(), next_attempt_at=null(),
                         sent_at=bindparam("b_at", type_=table.c.sent_at.type),
                         attempts=table.c.attempts + literal_column("1")))
    compiled = statement.compile(dialect=dialect)
    positional = operator.itemgetter(*compiled.positiontup) if dialect.positional else None
    stamp = table.c.sent_at.type.dialect_impl(dialect).bind_processor(dialect)
    return compiled.string, positional, stamp or (lambda value: value)


def release(session: Session, delivery_ids: Iterable[int], owner: str) -> None:
    """Give back claimed rows that were never tried (a stop or a pause)."""
    ids = list(delivery_ids)
    if ids:
        session.execute(update(Delivery).where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.queued,
                                               Delivery.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False))


def renew(session: Session, owner: str, delivery_ids: Sequence[int], until: datetime) -> None:
    if delivery_ids:
        session.execute(update(Delivery).where(Delivery.id.in_(list(delivery_ids)), Delivery.lease_owner == owner)
                        .values(lease_until=until).execution_options(synchronize_session=False))


def paused_reason(session: Session, issue_id: int) -> str | None:
    i = Issue.__table__.c
    row = session.execute(select(i.status, i.paused_reason).where(i.id == issue_id)).one()
    return (row.paused_reason or "paused") if row.status is IssueStatus.paused else None


def release_dead_leases(session: Session, alive=None) -> int:
    """Leases held by processes of this host that no longer run are freed at once (not after expiry)."""
    alive = alive or _pid_alive
    host = socket.gethostname()
    owners = session.scalars(select(Delivery.lease_owner).distinct().where(
        Delivery.lease_owner.like(f"{host}:%"), Delivery.status == DeliveryStatus.queued)).all()
    dead = [owner for owner in owners if not alive(int(owner.split(":")[1]))]
    if dead:
        session.execute(update(Delivery).where(Delivery.lease_owner.in_(dead))
                        .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False))
    return len(dead)


def _pid_alive(pid: int) -> bool:
    """A zombie counts as dead: a killed sender whose parent died too waits for init to reap it, and
    until then kill(pid, 0) still succeeds (its leases then held the rest of a send for lease_seconds)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[:1] != [b"Z"]  # the state follows "(name)"
    except FileNotFoundError:  # exited just now, or a system without /proc: kill's answer stands there
        return not os.path.isdir("/proc")


def next_retry_at(session: Session, issue_id: int) -> datetime | None:
    return session.scalar(select(func.min(Delivery.next_attempt_at)).where(
        Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.queued))


def queued_left(session: Session, issue_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.queued)) or 0


def finish_if_done(session: Session, issue_id: int, now: datetime) -> bool:
    """An issue is sent only when nothing is left queued (never marked done early)."""
    if queued_left(session, issue_id):
        return False
    final = json.dumps(live_counts(session, [issue_id])[issue_id])
    session.execute(update(Issue).where(Issue.id == issue_id, Issue.status != IssueStatus.sent)
                    .values(status=IssueStatus.sent, finished_at=now, paused_reason=None, final_counts=final))
    return True


def pause(session: Session, issue_id: int, reason: str) -> None:
    session.execute(update(Issue).where(Issue.id == issue_id).values(status=IssueStatus.paused, paused_reason=reason))


def resume(session: Session, issue_id: int) -> None:
    session.execute(update(Issue).where(Issue.id == issue_id, Issue.status == IssueStatus.paused)
                    .values(status=IssueStatus.sending, paused_reason=None, failures_in_a_row=0))


def requeue_failed(session: Session, issue_id: int) -> int:
    """Failed deliveries of one issue back in the queue (after a relay's outage): how many.

    The issue goes back to sending, so the daemon's resume, `digest send` or a
    worker picks it up; the last error stays recorded until the next attempt.
    """
    count = session.execute(update(Delivery).where(Delivery.issue_id == issue_id,
                                                   Delivery.status == DeliveryStatus.failed)
                            .values(status=DeliveryStatus.queued, attempts=0, lease_owner=None, lease_until=None)
                            ).rowcount
    if count:
        session.execute(update(Issue).where(Issue.id == issue_id)
                        .values(status=IssueStatus.sending, paused_reason=None, finished_at=None, final_counts=None,
                                failures_in_a_row=0))
    return count


def failures(session: Session, issue_id: int, limit: int = 10) -> tuple[list[tuple[str, str]], int]:
    """Up to `limit` (address, the server's reply) of an issue's failed deliveries, and how many there are."""
    failed = and_(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.failed)
    rows = session.execute(select(Delivery.email, Delivery.last_error).where(failed).order_by(Delivery.id)
                           .limit(limit)).all()
    total = session.scalar(select(func.count()).select_from(Delivery).where(failed)) or 0
    return [(email, error or "") for email, error in rows], total


def sent_since(session: Session, since: datetime) -> int:
    """Messages sent by every sender since then: the shared sliding window for rate limits."""
    return session.scalar(select(func.count()).select_from(Delivery).where(Delivery.sent_at > since)) or 0


def active_senders(session: Session, now: datetime, exclude: str | None = None) -> int:
    """Other processes holding live leases: they share the per-second limit with us."""
    query = select(func.count(Delivery.lease_owner.distinct())).where(
        Delivery.lease_until > now, Delivery.status == DeliveryStatus.queued)
    if exclude:
        query = query.where(Delivery.lease_owner != exclude)
    return session.scalar(query) or 0


def counts(session: Session, issue_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per issue: queued, retrying (queued after a temporary failure), sent, failed, skipped.

    A sent issue's counts were frozen when it finished; only issues still
    sending or paused are counted row by row.
    """
    result = {}
    if issue_ids:
        for issue_id, final in session.execute(select(Issue.id, Issue.final_counts).where(
                Issue.id.in_(issue_ids), Issue.status == IssueStatus.sent, Issue.final_counts.is_not(None))):
            result[issue_id] = json.loads(final)
    return result | live_counts(session, [i for i in issue_ids if i not in result])


def live_counts(session: Session, issue_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    retrying = and_(Delivery.status == DeliveryStatus.queued, Delivery.attempts > 0)
    state = case((retrying, "retrying"), else_=Delivery.status)
    result = {issue_id: {"queued": 0, "retrying": 0, "sent": 0, "failed": 0, "skipped": 0} for issue_id in issue_ids}
    if issue_ids:
        for issue_id, name, count in session.execute(
                select(Delivery.issue_id, state, func.count()).where(Delivery.issue_id.in_(issue_ids))
                .group_by(Delivery.issue_id, state)):
            result[issue_id][name if isinstance(name, str) else name.name] = count
    return result
