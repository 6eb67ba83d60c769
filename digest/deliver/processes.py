"""One send on every core: N sender processes share an issue through the outbox; the parent reports once.

Each child runs a whole engine (deliver_issue) with its own database engine,
connections and lease owner, so the exactly-once bounds are those of N
`digest worker`s: a child killed outright resends at most what it had in
flight or not yet recorded; rows it claimed and never tried go back to the
queue (at once for a dead process of this host, else when the lease ends).
The parent claims nothing. It starts the children from a fork server (a fork
of the parent itself, which has threads and database connections, could copy
held locks and open sockets): a clean process that imported the sender's
module once, so each child starts in milliseconds instead of importing
everything again (~0.8 s of CPU each). The parent relays a stop, merges their
progress into one bar, their log lines into its own log, and their reports into
one.

A child stops as a single sender does (messages in flight finish, the rest is
given back) when the parent asks, when it gets SIGTERM itself (a service
manager signals the whole group), or when the parent dies: its end of the pipe
then reads end-of-file.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

from sqlalchemy.orm import Session, sessionmaker

from digest import errors
from digest.deliver import outbox
from digest.deliver.engine import DeliveryReport

log = logging.getLogger(__name__)
PROGRESS_SECONDS = 0.2  # a child's progress messages at most this often: the bar needs no more
KEPT_ERRORS = 50  # per child, in its final report


@dataclass
class _Child:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    counts: tuple[int, int, int] = (0, 0, 0)  # sent, failed, skipped so far
    report: DeliveryReport | None = None
    error: errors.DigestError | None = None
    asked_to_stop: bool = field(default=False)


def deliver_in_processes(sessions: sessionmaker[Session], issue_id: int, count: int,
                         target: Callable[..., DeliveryReport], args: tuple, *, stop: threading.Event | None = None,
                         progress: Callable[[DeliveryReport], None] | None = None,
                         resume: bool = True) -> DeliveryReport:
    """`count` processes each run `target(*args, stop=Event, progress=callable)` (a module-level function:
    spawn pickles it by name) and return its DeliveryReport; the merged report comes back here.

    The paused check and `resume` happen once, here, before any child starts: a child
    starting late must not resume an issue its sibling has just paused.
    """
    stop = stop or threading.Event()
    report = DeliveryReport(issue_id)
    with sessions() as session, session.begin():
        outbox.release_dead_leases(session)
        if resume:
            outbox.resume(session, issue_id)
        report.paused_reason = outbox.paused_reason(session, issue_id)
        counts = outbox.counts(session, [issue_id])[issue_id]
    report.total = sum(counts.values())
    report.done_before = counts["sent"] + counts["failed"] + counts["skipped"]
    if report.paused_reason:
        return report
    context = _context(target)
    children: list[_Child] = []
    try:
        for index in range(count):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=_child, name=f"digest-sender-{index + 1}",
                                      args=(child_end, target, args, logging.getLogger().getEffectiveLevel()))
            process.start()
            child_end.close()
            children.append(_Child(process, parent_end))
        _relay(children, stop, report, progress)
    finally:
        for child in children:  # normally all done; after an exception here, stop them and wait
            _ask_to_stop(child)
        for child in children:
            child.process.join()
            child.conn.close()
    return _merge(report, children, stop)


def _context(target) -> multiprocessing.context.BaseContext:
    """forkserver where the platform has it (Linux), spawn elsewhere: never a fork of this process."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([target.__module__, __name__])
    return context


def _relay(children: list[_Child], stop: threading.Event, report: DeliveryReport, progress) -> None:
    live = {child.conn: child for child in children}
    while live:
        if stop.is_set():
            for child in live.values():
                _ask_to_stop(child)
        for conn in wait(list(live), timeout=0.2):
            child = live[conn]
            try:
                kind, data = conn.recv()
            except (EOFError, OSError):  # the child has exited (or died)
                del live[conn]
                child.process.join()
                if child.report is None and child.error is None:
                    child.error = errors.DeliveryError(
                        f"sender process {child.process.pid} ended (exit code {child.process.exitcode}) before "
                        "reporting; its unfinished deliveries stay queued")
                continue
            if kind == "progress":
                child.counts = data
            elif kind == "log" and logging.getLogger(data.name).isEnabledFor(data.levelno):
                logging.getLogger(data.name).handle(data)
            elif kind == "done":
                child.report = data
                child.counts = (data.sent, data.failed, data.skipped)
            elif kind == "error":
                child.error = _rebuild(*data)
            if progress and kind in ("progress", "done"):
                sent, failed, skipped = (sum(c.counts[i] for c in children) for i in range(3))
                progress(DeliveryReport(report.issue_id, sent=sent, failed=failed, skipped=skipped,
                                        total=report.total, done_before=report.done_before))


def _ask_to_stop(child: _Child) -> None:
    if not child.asked_to_stop:
        child.asked_to_stop = True
        try:
            child.conn.send("stop")
        except (OSError, ValueError):  # it has exited already
            pass


def _merge(report: DeliveryReport, children: list[_Child], stop: threading.Event) -> DeliveryReport:
    reports = [child.report for child in children if child.report is not None]
    for name in ("sent", "failed", "skipped", "retried"):
        setattr(report, name, sum(getattr(r, name) for r in reports))
    report.errors = [error for r in reports for error in r.errors]
    report.finished = any(r.finished for r in reports)
    report.paused_reason = next((r.paused_reason for r in reports if r.paused_reason), None)
    report.stopped = stop.is_set() and not report.finished
    failures = [child.error for child in children if child.error is not None]
    for failure in failures[1:]:
        log.error("%s", failure)
    if failures and not report.finished:
        raise failures[0]
    if failures:
        log.error("%s (the other senders finished the issue)", failures[0])
    return report


def _rebuild(name: str, message: str, hint: str | None) -> errors.DigestError:
    """A child's error, as the same class (DigestError subclasses take a `hint` keyword, which pickle drops)."""
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, errors.DigestError)):
        cls = errors.DeliveryError
    return cls(message, hint=hint)


class _PipeHandler(logging.Handler):
    """A child's log records go to the parent, formatted, so they land in its log (and above its bar)."""

    def __init__(self, say: Callable[[str, object], None]) -> None:
        super().__init__()
        self.say = say

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record.msg = f"[{multiprocessing.current_process().name}] {self.format(record)}"
            record.args, record.exc_info, record.exc_text, record.stack_info = None, None, None, None
            self.say("log", record)
        except Exception:  # noqa: BLE001 - logging must never break a send
            self.handleError(record)


def _child(conn: Connection, target, args: tuple, level: int) -> None:
    stop = threading.Event()
    lock = threading.Lock()

    def say(kind: str, data: object) -> None:
        with lock:  # sender threads log, the coordinator reports: one message at a time on the pipe
            try:
                conn.send((kind, data))
            except (OSError, ValueError):  # the parent is gone
                stop.set()

    root = logging.getLogger()
    root.handlers = [_PipeHandler(say)]
    root.setLevel(level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent relays it once
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=_watch_parent, args=(conn, stop), daemon=True).start()
    last = [0.0]

    def progress(report: DeliveryReport) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_SECONDS:
            last[0] = now
            say("progress", (report.sent, report.failed, report.skipped))

    try:
        report = target(*args, stop=stop, progress=progress)
    except errors.DigestError as exc:
        say("error", (type(exc).__name__, str(exc.args[0]) if exc.args else str(exc), exc.hint))
        return
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line, the traceback in the log
        logging.getLogger(__name__).exception("sender process failed")
        say("error", ("DeliveryError", f"a sender process failed: {exc.__class__.__name__}: {exc}", None))
        return
    report.errors = report.errors[-KEPT_ERRORS:]
    say("done", report)


def _watch_parent(conn: Connection, stop: threading.Event) -> None:
    try:
        while conn.recv() != "stop":
            pass
    except (EOFError, OSError):  # the parent died: stop as on SIGTERM
        pass
    stop.set()
