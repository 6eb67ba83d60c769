"""Clicks written off the request path, in batches, and never lost to a clean shutdown.

The redirect must answer at once (a reader is waiting, and a scanner fires
hundreds at a time), so the request only appends to a queue; a thread
classifies and writes what has waited WINDOW seconds (the burst and canary
rules need to see what came just after a click) every `flush_seconds`, in one
transaction per batch. `close()` (the app's shutdown, on SIGTERM too) writes
everything still queued. If the database is down the batch is dropped and
logged: the readers were sent on anyway; only the count is lost.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import datetime, timezone
from itertools import takewhile

from sqlalchemy import func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from digest import metrics
from digest.analytics.classify import WINDOW, Hit, classify
from digest.analytics.readers import recordable
from digest.models import Delivery
from digest.models_clicks import Click

log = logging.getLogger(__name__)
RECHECK_SECONDS = 10.0  # an issue not delivered yet: look for its first delivery again after this long


class Recorder:
    def __init__(self, sessions, *, flush_seconds: float = 0.5, max_pending: int = 200_000,
                 clock: Callable[[], float] = time.time) -> None:
        self.sessions, self.flush_seconds, self.max_pending, self.clock = sessions, flush_seconds, max_pending, clock
        self.pending: deque[Hit] = deque()
        self.recent: deque[Hit] = deque()  # classified already: what the next batch's rules look back on
        self.first_sent: dict[int, tuple[float | None, float]] = {}  # issue -> (first delivery, when looked)
        self.written = self.lost = 0
        self._stop = threading.Event()
        self._start = threading.Lock()
        self._flush = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, hit: Hit) -> None:
        """On the request path: one append, no I/O."""
        if len(self.pending) >= self.max_pending:  # bounded memory under a flood the writer cannot keep up with
            self._lose(1, "the queue is full")
            return
        self.pending.append(hit)
        if self._thread is None:
            self.start()

    def start(self) -> None:
        with self._start:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="click-recorder", daemon=True)
                self._thread.start()
                atexit.register(self.close)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def close(self, timeout: float = 30.0) -> None:
        """Stop the thread and write everything queued."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self.flush(everything=True)

    def flush(self, everything: bool = False) -> int:
        """Classify and write what has waited long enough (everything: all of it); returns how many."""
        with self._flush:
            cutoff = self.clock() - WINDOW
            batch = []
            while self.pending and (everything or self.pending[0].at <= cutoff):
                batch.append(self.pending.popleft())
            if not batch:
                return 0
            # The rules look at most WINDOW seconds either side of a click: only that much context, not all of it.
            early, late = batch[0].at - WINDOW, batch[-1].at + WINDOW
            context = [*takewhile(lambda h: h.at >= early, reversed(self.recent)),
                       *takewhile(lambda h: h.at <= late, self.pending)]
            verdicts = classify(batch, context, self._first_sent({h.issue_id for h in batch}))
            rows = [{"issue_id": h.issue_id, "number": h.number, "verdict": v, "subscriber_id": h.reader,
                     "at": datetime.fromtimestamp(h.at, timezone.utc)} for h, v in zip(batch, verdicts, strict=True)]
            try:
                with self.sessions() as session, session.begin():
                    readers = {row["subscriber_id"] for row in rows} - {None}
                    if readers:  # an opted-out or forgotten reader's old copy counts for nobody
                        kept = recordable(session, readers)
                        for row in rows:
                            if row["subscriber_id"] not in kept:
                                row["subscriber_id"] = None
                    session.execute(insert(Click.__table__), rows)
            except SQLAlchemyError as exc:
                self._lose(len(rows), f"the database refused them ({exc.__class__.__name__}: {exc})")
            else:
                self.written += len(rows)
                for (kind, verdict), count in Counter(zip((h.kind for h in batch), verdicts)).items():
                    metrics.CLICKS.labels(kind, verdict).inc(count)
            self.recent.extend(batch)
            while self.recent and self.recent[0].at < batch[-1].at - 2 * WINDOW:
                self.recent.popleft()
            return len(rows)

    def _lose(self, count: int, why: str) -> None:
        self.lost += count
        metrics.CLICKS_LOST.inc(count)
        log.error("%d click(s) not recorded: %s (the readers were sent on)", count, why)

    def _first_sent(self, issues: set[int]) -> dict[int, float]:
        """When each issue's first message went: the early rule's start. Looked up once it exists."""
        now = time.monotonic()
        wanted = [i for i in issues if i not in self.first_sent or (
            self.first_sent[i][0] is None and now - self.first_sent[i][1] > RECHECK_SECONDS)]
        if wanted:
            try:
                with self.sessions() as session:
                    found = dict(session.execute(select(Delivery.issue_id, func.min(Delivery.sent_at))
                                                 .where(Delivery.issue_id.in_(wanted)).group_by(Delivery.issue_id)).all())
            except SQLAlchemyError:
                found = {}
            for issue in wanted:
                at = found.get(issue)
                self.first_sent[issue] = (at.timestamp() if at else None, now)
        return {i: self.first_sent[i][0] for i in issues if self.first_sent.get(i, (None,))[0] is not None}


__all__ = ["Recorder"]
