"""Issue outbox -> transport: a pool of connections, leases, retries, rate limits, pause, clean stop.

One coordinating thread claims batches of deliveries (digest.deliver.outbox) and
feeds N sender threads, each holding one persistent connection. Results come
back to the coordinator, which records them in small transactions (at least
every COMMIT_SECONDS), so a killed sender resends at most the messages whose
250 arrived in that window (plus the Inbox's WAIT_SECONDS) and the ones in
flight; claimed rows it never tried are simply leased again. A stop request
(SIGTERM/SIGINT) lets the messages in flight finish, records them and gives the
rest back.

Work goes to a sender a few messages at a time (at most CHUNK), and outcomes
come back through an Inbox that wakes the coordinator only per chunk or failure:
with one hand-over per message through queue.Queue, its Condition.notify was
most of the coordinator's GIL time in a py-spy profile (a lock, a wake-up, the
GIL changing hands, every message). Every sender checks `halt` before each
message, so a pause or a stop still takes effect within the messages in flight.

The senders are in digest.deliver.senders. Per recipient the work is
`build_message` (the envelope sender and the bytes substituted into a message
built once per issue, both per delivery: a VERP bounce address differs per
message) and one transport call.
"""

from __future__ import annotations

import logging
import queue
from collections import deque
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from digest.settings import DeliverySettings
from digest.deliver import outbox
from digest.errors import TransportUnavailable
from digest.models import DeliveryStatus
from digest.deliver.outbox import Claimed, Outcome
from digest.deliver.senders import Inbox, Pacer, run_sender
from digest.deliver.transports import Transport

log = logging.getLogger(__name__)
COMMIT_EVERY = 100
COMMIT_SECONDS = 0.1
CHUNK = 16  # most messages handed to one sender at a time (fewer when the claimed backlog runs short)


@dataclass(frozen=True)
class SendPolicy:
    connections: int = 4
    batch_size: int = 50
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 5
    retry_base_seconds: float = 30.0
    max_consecutive_failures: int = 100
    max_per_second: float = 0.0
    max_per_hour: int = 0

    @classmethod
    def from_settings(cls, d: DeliverySettings) -> SendPolicy:
        return cls(connections=d.connections, batch_size=d.batch_size, lease=timedelta(seconds=d.lease_seconds),
                   max_attempts=d.max_attempts, retry_base_seconds=d.retry_base_seconds,
                   max_consecutive_failures=d.max_consecutive_failures, max_per_second=d.max_per_second,
                   max_per_hour=d.max_per_hour)


@dataclass
class DeliveryReport:
    issue_id: int
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    finished: bool = False
    paused_reason: str | None = None
    stopped: bool = False
    errors: list[str] = field(default_factory=list)
    total: int = 0  # the issue's deliveries, all states; with done_before, what a progress bar needs
    done_before: int = 0  # already sent, failed or skipped when this run started


def deliver_issue(
    sessions: sessionmaker[Session], issue_id: int, newsletter: str,
    build_message: Callable[[Claimed], tuple[str, bytes]], transport_factory: Callable[[], Transport], policy: SendPolicy,
    *, now: Callable[[], datetime], stop: threading.Event | None = None,
    progress: Callable[[DeliveryReport], None] | None = None, resume: bool = True,
    on_failures: Callable[[Session, list[tuple[Claimed, str, bool]]], None] | None = None,
) -> DeliveryReport:
    """Send every queued delivery of one issue. TransportUnavailable propagates after a clean wind-down.

    `stop` is the caller's (SIGTERM); a failure here never sets it, so a daemon
    survives an unreachable mail server. A paused issue is resumed only when
    `resume` is true (`digest send`); workers and the scheduler leave it paused.
    `on_failures` sees each final failure, (claim, error, refused by
    the server) in the transaction that records it, to act on bounces at once.
    """
    run = _Run(sessions, issue_id, newsletter, policy, now, stop or threading.Event(), progress, resume)
    run.on_failures = on_failures
    if run.report.paused_reason:
        return run.report
    work: queue.SimpleQueue[list[Claimed] | None] = queue.SimpleQueue()
    threads = [threading.Thread(target=run_sender, args=(transport_factory, build_message, work,
                                                      run.inbox, run.halt, run.stop, run.pacer, now), daemon=True)
               for _ in range(policy.connections)]
    for thread in threads:
        thread.start()
    try:
        run.coordinate(work, alive=lambda: any(thread.is_alive() for thread in threads))
    finally:
        run.halt.set()  # senders hand back the rest of their chunk untried
        run.release([item for chunk in _drain(work) if chunk is not None for item in chunk])
        for _ in threads:
            work.put(None)
        for thread in threads:
            thread.join()
        run.collect(block=False)
        run.flush(force=True)
        run.release(list(run.pending))
        run.wind_down()
    if run.fatal:
        raise run.fatal
    return run.report


def _drain(work: queue.SimpleQueue) -> list:
    items = []
    while True:
        try:
            items.append(work.get_nowait())
        except queue.Empty:
            return items


class _Run:
    """The coordinator's state for one issue: pending claims, the outcome buffer, the counters."""

    def __init__(self, sessions, issue_id, newsletter, policy, now, stop, progress, resume) -> None:
        self.sessions, self.issue_id, self.newsletter = sessions, issue_id, newsletter
        self.policy, self.now, self.stop, self.progress = policy, now, stop, progress
        self.halt = threading.Event()  # our own reasons to stop: the caller's `stop` is never set here
        self.renewed_at = time.monotonic()
        self.owner = outbox.make_owner()
        self.inbox = Inbox(policy.max_consecutive_failures)
        self.pending: dict[int, Claimed] = {}  # claimed and not yet answered (in backlog, queue or flight)
        self.backlog: deque[Claimed] = deque()
        self.buffer: list[Outcome] = []
        self.failures: list[tuple[Claimed, str, bool]] = []  # final failures in `buffer`, for on_failures
        self.flush_soon = False
        self.on_failures = None
        self.buffered_since = 0.0
        self.refused = 0  # connections the server would not open
        self.pacer = Pacer(policy.max_per_second)
        self.fatal: Exception | None = None
        self.report = DeliveryReport(issue_id)
        with sessions() as session, session.begin():
            outbox.release_dead_leases(session)
            if resume:
                outbox.resume(session, issue_id)
            elif outbox.paused_reason(session, issue_id):
                self.report.paused_reason = outbox.paused_reason(session, issue_id)
            counts = outbox.counts(session, [issue_id])[issue_id]
            self.report.total = sum(counts.values())
            self.report.done_before = counts["sent"] + counts["failed"] + counts["skipped"]

    def coordinate(self, work: queue.SimpleQueue, alive: Callable[[], bool]) -> None:
        while not (self.stop.is_set() or self.halt.is_set()):
            self.collect(block=False)
            self.flush()
            if self.halt.is_set():  # the outcomes just collected paused the issue: feed nothing more
                return
            self.renew_leases()
            if not alive():
                self.fatal = self.fatal or TransportUnavailable("every sending connection has stopped")
                return
            # Feed the senders a little at a time from the claimed batch, so they never run far
            # ahead of the failure count (a pause stops within a few messages, not a whole batch).
            while self.backlog and work.qsize() < self.policy.connections * 2:
                size = max(1, min(CHUNK, len(self.backlog) // (self.policy.connections * 2)))
                work.put([self.backlog.popleft() for _ in range(size)])
            if self.backlog or work.qsize() >= self.policy.connections * 2:
                self.collect(block=True)
                continue
            batch = self.claim()
            if batch:
                self.backlog.extend(batch)
            elif self.pending:
                self.collect(block=True)
            elif not self.wait_for_more():
                return

    def claim(self) -> list[Claimed]:
        size = self.policy.batch_size
        if self.policy.max_per_second:  # what the senders can send in half a lease, so leases never run out queued
            size = max(1, min(size, int(self.pacer.rate * self.policy.lease.total_seconds() / 2)))
        if self.policy.max_per_hour:
            self.flush(force=True)
        with self.sessions() as session, session.begin():
            now = self.now()
            reason = outbox.paused_reason(session, self.issue_id)
            if reason:  # another process paused it: stop here too
                self.report.paused_reason = reason
                self.halt.set()
                return []
            if self.policy.max_per_hour:  # outcomes are flushed first, so every sent message is counted
                size = min(size, self.policy.max_per_hour - len(self.pending)
                           - outbox.sent_since(session, now - timedelta(hours=1)))
                if size <= 0:
                    return []
            if self.policy.max_per_second:  # this process's share of the limit
                others = outbox.active_senders(session, now, exclude=self.owner)
                self.pacer.rate = self.policy.max_per_second / (others + 1)
            batch = outbox.claim(session, self.issue_id, self.owner, now, self.policy.lease, size)
            allowed = outbox.still_confirmed(session, self.newsletter, (c.subscriber_id for c in batch), now)
        keep = []
        for item in batch:
            if item.subscriber_id in allowed:
                self.pending[item.delivery_id] = item
                keep.append(item)
            else:
                self.add(Outcome(item.delivery_id, DeliveryStatus.skipped, "unsubscribed, paused or suppressed before delivery"))
                self.report.skipped += 1
        return keep

    def renew_leases(self) -> None:
        """Claimed rows waiting in our queue keep their lease while this process lives."""
        if not self.pending or time.monotonic() - self.renewed_at < self.policy.lease.total_seconds() / 3:
            return
        self.renewed_at = time.monotonic()
        with self.sessions() as session, session.begin():
            outbox.renew(session, self.owner, list(self.pending), self.now() + self.policy.lease)

    def wait_for_more(self) -> bool:
        """Nothing claimable now: done, or wait for retries, leases of others, or the hourly window."""
        self.flush(force=True)
        with self.sessions() as session:
            if not outbox.queued_left(session, self.issue_id):
                return False
            due = outbox.next_retry_at(session, self.issue_id)
        delay = 1.0 if due is None else min(max((due - self.now()).total_seconds(), 0.01), 1.0)
        self.stop.wait(delay)
        return True

    def collect(self, block: bool) -> None:
        untried = []
        for result in self.inbox.take(block):
            if result[1] == "untried":
                untried.append(result[0])
            else:
                self.outcome(*result)
        self.release(untried)  # one transaction for a stop's or a pause's handed-back chunks

    def outcome(self, item: Claimed | None, status, error, at: datetime, in_a_row: int) -> None:
        """One sender's outcome; `in_a_row`: failures in a row up to it, as the Inbox counted them."""
        if status == "no-connection":
            self.refused += 1
            if self.refused >= self.policy.connections:
                self.fatal = self.fatal or error
                self.halt.set()
            elif self.refused == 1:
                log.warning("issue %d: the mail server refused a connection (%s); sending on the others "
                            "(lower delivery.connections if it allows fewer)", self.report.issue_id, error)
            return
        if status == "unavailable":
            self.fatal = self.fatal or error
            if item is not None:
                self.release([item])
            return
        self.pending.pop(item.delivery_id, None)
        if status is DeliveryStatus.sent:
            self.report.sent += 1
            self.add(Outcome(item.delivery_id, status, at=at))
        else:
            self.report.errors.append(error)
            # A run of failures is written down every tenth of the limit, so other processes see it soon.
            if in_a_row and in_a_row % max(1, self.policy.max_consecutive_failures // 10) == 0:
                self.flush_soon = True
            if in_a_row >= self.policy.max_consecutive_failures and not self.report.paused_reason:
                self.report.paused_reason = f"{in_a_row} failures in a row; last: {error}"
                self.halt.set()  # the senders hand back what they have not started (they stop themselves too)
            if status is None and item.attempts + 1 < self.policy.max_attempts:
                backoff = self.policy.retry_base_seconds * 2 ** item.attempts * random.uniform(0.5, 1.5)
                self.report.retried += 1
                self.add(Outcome(item.delivery_id, DeliveryStatus.queued, error,
                                 retry_at=self.now() + timedelta(seconds=backoff)))
            else:
                self.failures.append((item, error, status is not None))
                if status is None:
                    error = f"gave up after {item.attempts + 1} attempts: {error}"
                self.report.failed += 1
                self.add(Outcome(item.delivery_id, DeliveryStatus.failed, error))
        if self.progress:
            self.progress(self.report)
        if self.flush_soon:
            self.flush_soon = False
            self.flush(force=True)

    def add(self, outcome: Outcome) -> None:
        if not self.buffer:
            self.buffered_since = time.monotonic()
        self.buffer.append(outcome)

    def flush(self, force: bool = False) -> None:
        if not self.buffer:
            return
        if force or len(self.buffer) >= COMMIT_EVERY or time.monotonic() - self.buffered_since >= COMMIT_SECONDS:
            with self.sessions() as session, session.begin():
                outbox.record(session, self.buffer, self.now(), self.owner)
                run = outbox.failures_in_a_row(session, self.issue_id, self.buffer)
                limit = self.policy.max_consecutive_failures
                if limit and run >= limit and not self.report.paused_reason:
                    # Every process sending this issue adds to one count: together they stop at the limit.
                    last = next((o.error for o in reversed(self.buffer) if o.error), "")
                    self.report.paused_reason = f"{run} failures in a row; last: {last}"
                    outbox.pause(session, self.issue_id, self.report.paused_reason)
                    self.halt.set()
                if self.failures and self.on_failures:
                    self.on_failures(session, self.failures)
            self.buffer, self.failures = [], []

    def release(self, items) -> None:
        ids = [getattr(item, "delivery_id", item) for item in items]
        for delivery_id in ids:
            self.pending.pop(delivery_id, None)
        if ids:
            with self.sessions() as session, session.begin():
                outbox.release(session, ids, self.owner)

    def wind_down(self) -> None:
        with self.sessions() as session, session.begin():
            if self.report.paused_reason:
                outbox.pause(session, self.issue_id, self.report.paused_reason)
                log.error("issue %d paused: %s", self.issue_id, self.report.paused_reason)
            else:
                self.report.finished = outbox.finish_if_done(session, self.issue_id, self.now())
        self.report.stopped = self.stop.is_set() and not self.report.finished
