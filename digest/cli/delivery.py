"""`digest status` and `digest worker`, and what `send` needs to be a good terminal citizen:
a progress bar with rate and ETA on a terminal, plain log lines elsewhere, and a clean
stop on SIGTERM/SIGINT (messages in flight finish; the rest stays queued for the next run).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import click
from sqlalchemy import select

from digest import audience, store
from digest.db import make_engine
from digest.flows import feedback_counts, health, reputation, roundup, sending, webhook_delivery
from digest.flows.runtime import secret_key
from digest.cli.context import Context, pass_context
from digest.deliver import outbox
from digest.errors import DeliveryError, DigestError
from digest.models import Issue, IssueStatus
from digest.render.dkim import signer_for

log = logging.getLogger("digest.send")


@contextmanager
def stop_on_signals():
    """An Event set by the first SIGTERM or SIGINT; a second SIGINT interrupts at once."""
    stop = threading.Event()

    def request_stop(signum, _frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.warning("%s received: finishing the messages in flight, then stopping",
                    signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Progress:
    """tqdm on a terminal; a log line every 10 seconds otherwise."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()  # asked once: it is a system call, and update() runs for every message
        self.bar = None
        self.last_log = time.monotonic()
        self.done = 0

    def __enter__(self) -> Progress:
        return self

    def update(self, report) -> None:
        done = report.sent + report.failed + report.skipped
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm

                from tqdm.contrib.logging import logging_redirect_tqdm

                self.bar = tqdm(desc=f"issue {report.issue_id}", unit="msg", file=self.stream, dynamic_ncols=True,
                                total=report.total or None, initial=report.done_before)
                # Log lines go above the bar instead of through it.
                self._redirect = logging_redirect_tqdm()
                self._redirect.__enter__()
            self.bar.update(done - self.done)
            self.bar.set_postfix(failed=report.failed, refresh=False)
        elif time.monotonic() - self.last_log >= 10:
            self.last_log = time.monotonic()
            of = f" of {report.total - report.done_before}" if report.total else ""
            log.info("issue %d: %d%s done (%d sent, %d failed, %d skipped)", report.issue_id, done, of,
                     report.sent, report.failed, report.skipped)
        self.done = done

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
            self._redirect.__exit__(None, None, None)


@click.command()
@click.argument("newsletter", required=False)
@click.option("--limit", default=10, show_default=True, help="How many recent issues to show.")
@pass_context
def status(ctx: Context, newsletter: str | None, limit: int) -> None:
    """The database (schema, size, largest tables, free disk), source health, then each recent issue's state
    and counts, with who failed and the server's reply."""
    engine = make_engine(ctx.settings().storage.url)
    try:
        before = health.schema_of(engine)  # read before this command migrates: were migrations pending?
    finally:
        engine.dispose()
    rt = ctx.runtime()
    state = health.check(rt.sessions.kw["bind"], rt.settings.storage)
    for line in health.lines(state):
        click.echo(line)
    if before != state.schema:
        click.echo(f"  migrated from schema {before} to {state.schema} by this command")
    chosen = (rt.settings.newsletter(newsletter),) if newsletter else rt.settings.newsletters
    with rt.sessions() as session:
        click.echo("sources:")
        for source in {s.url: s for n in chosen for s in n.sources}.values():
            click.echo(f"  {source.name}: {_health(store.source_state(session, source.url))}")
        query = select(Issue).order_by(Issue.id.desc()).limit(limit)
        if newsletter:
            query = query.where(Issue.newsletter == newsletter)
        issues = session.scalars(query).all()
        counts = outbox.counts(session, [issue.id for issue in issues])
        failed = {issue.id: outbox.failures(session, issue.id) for issue in issues if counts[issue.id]["failed"]}
        came_back = feedback_counts.issue_feedback(session, [issue.id for issue in issues])
        why = {issue.id: feedback_counts.issue_reasons(session, issue.id) for issue in issues}
        complaints, sent, rate = feedback_counts.complaint_rate(session, rt.now())
        standings = reputation.standings(session, rt.settings.bounces, rt.now())
    click.echo(f"complaint rate, last 30 days: {complaints} of {sent} sent ({rate:.3%}): "
               f"{feedback_counts.rate_verdict(rate)}")
    hours = rt.settings.bounces.reputation_window_hours
    if standings:
        click.echo(f"sender reputation, last {hours:g} h (receiving domains refusing us, never the readers' fault):")
        for s in standings:
            click.echo(f"  {s.domain}: {s.sender_side} of {s.sent} came back sender-side ({s.share:.0%}): {s.verdict}")
    else:
        click.echo(f"sender reputation, last {hours:g} h: no receiving domain refused us")
    for hook in webhook_delivery.overview(rt):
        click.echo(f"webhook {hook['name']}: queued {hook['queued']}, delivered {hook['delivered']}, "
                   f"failed {hook['failed']}" + (f"; DISABLED ({hook['last_error']})" if hook["disabled_at"] else
                                                f"; {hook['failures_in_a_row']} failures in a row"
                                                if hook["failures_in_a_row"] else ""))
    if not issues:
        click.echo("no issues yet")
    for issue in issues:
        c = counts[issue.id]
        held = [f"{issue.paused_readers} paused"] if issue.paused_readers else []
        held += [f"{n} {audience.HELD_REASONS[why]}" for why, n in audience.held_counts(issue).items()]
        click.echo(f"#{issue.id} {issue.newsletter}{' roundup' if issue.kind == audience.ROUNDUP else ''} "
                   f"{issue.created_at:%Y-%m-%d %H:%M} {issue.status.value:8} "
                   f"queued {c['queued']}  retrying {c['retrying']}  sent {c['sent']}  failed {c['failed']}  "
                   f"skipped {c['skipped']}" + (f" (+ by the readers' choice: {', '.join(held)})" if held else "")
                   + f"  {issue.subject}")
        back = came_back[issue.id]
        click.echo(f"    bounced hard {back['hard']}  soft {back['soft']}  sender-side {back['sender']}  "
                   f"unclassified {back['unclassified']}  complaints {back['complaint']}"
                   + (f"  ({back['complaint'] / c['sent']:.2%} of sent)" if back["complaint"] and c["sent"] else ""))
        if why[issue.id]:
            click.echo("    reasons: " + ", ".join(f"{reason or 'unclassified'} {count} ({kind}"
                                                   f"{', ' + side if side else ''})"
                                                   for kind, side, reason, count in why[issue.id][:8]))
        if issue.paused_reason:
            click.echo(f"    paused: {issue.paused_reason}")
        rows, total = failed.get(issue.id, ([], 0))
        for address, reply in rows:
            click.echo(f"    failed: {address}: {reply}")
        if total > len(rows):
            click.echo(f"    ... and {total - len(rows)} more failed (`digest requeue {issue.id}` after an outage)")


def _health(state) -> str:
    if state is None:
        return "never fetched"
    success = f"last success {state.last_success_at:%Y-%m-%d %H:%M}" if state.last_success_at else "never succeeded"
    if not state.failures:
        return success
    return f"{success}; {state.failures} failure(s) in a row, last: {state.last_error}"


@click.command("roundup")
@click.argument("newsletter")
@click.option("--enqueue", is_flag=True, help="Make the roundup and its outbox only; `digest worker` processes send it.")
@pass_context
def roundup_command(ctx: Context, newsletter: str, enqueue: bool) -> None:
    """Send NEWSLETTER's weekly roundup now (the last 7 days' issues) to the readers who chose it."""
    rt = ctx.runtime()
    if not rt.settings.newsletter(newsletter).roundup_schedule:
        raise DigestError(f"{newsletter} has no weekly roundup: set 'roundup_schedule' in its config")
    now = rt.now()
    slot = f"{roundup.ROUNDUP_SLOT}manual-{now:%Y%m%dT%H%M%S}"
    with stop_on_signals() as stop:
        _issue, report, result = roundup.send_roundup(rt, newsletter, slot, now, stop=stop, deliver=not enqueue)
    click.echo(f"{newsletter}: {result}" + (f", {report.failed} failed, {report.skipped} skipped" if report else ""))
    if report is not None and report.paused_reason:
        sys.exit(75)


@click.command()
@click.argument("issue_id", type=int)
@pass_context
def requeue(ctx: Context, issue_id: int) -> None:
    """Queue ISSUE_ID's failed deliveries again (after a relay's outage); the next send, worker or daemon sends them."""
    with ctx.runtime().sessions() as session, session.begin():
        if session.get(Issue, issue_id) is None:
            raise DeliveryError(f"there is no issue {issue_id} (`digest status` lists them)")
        count = outbox.requeue_failed(session, issue_id)
    click.echo(f"issue {issue_id}: {count} failed deliveries queued again")


@click.command()
@click.option("--once", is_flag=True, help="Send what is queued now, then exit (default: keep polling).")
@click.option("--poll", default=5.0, show_default=True, help="Seconds between looks for work.")
@pass_context
def worker(ctx: Context, once: bool, poll: float) -> None:
    """Send queued deliveries of every issue, sharing the work with other workers (PostgreSQL: any machine).

    Paused issues are left alone until someone runs `digest send` for that newsletter."""
    rt = replace(ctx.runtime(), processes=ctx.runtime().settings.delivery.processes)
    secret = secret_key(rt)
    signer_for(rt.settings.dkim)  # a bad DKIM key stops the worker now, not at its first issue
    with stop_on_signals() as stop:
        while not stop.is_set():
            with rt.sessions() as session:
                issues = [issue for issue in store.unfinished_issues(session)
                          if issue.status is IssueStatus.sending and outbox.queued_left(session, issue.id)]
            for issue in issues:
                if stop.is_set():
                    break
                if issue.newsletter not in {n.slug for n in rt.settings.newsletters}:
                    log.error("issue %d belongs to %r, which config.toml no longer has: skipped", issue.id,
                              issue.newsletter)
                    continue
                try:
                    report = sending.send_existing_issue(rt, rt.settings.newsletter(issue.newsletter), issue, secret,
                                                          stop=stop)
                except DeliveryError as exc:  # the mail server is down: wait and try again, do not die
                    log.error("issue %d: %s; retrying in %.0f s", issue.id, exc, poll)
                    continue
                click.echo(f"issue {report.issue_id}: {report.sent} sent, {report.failed} failed, "
                           f"{report.skipped} skipped" + (f"; PAUSED: {report.paused_reason}"
                                                          if report.paused_reason else ""))
            if once:
                break
            stop.wait(poll)
