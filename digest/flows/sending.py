"""The only place that knows the stage order: gather -> summarize -> compose -> render -> deliver.

The CLI (and later the scheduler and web app) call these functions; stages
never call each other. Database and network I/O happen here and in store /
transports, so each stage stays a function of plain data.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from digest import compose, metrics, returnpath, store
from digest.config import NewsletterSettings, Settings, SourceSettings, make_trigger
from digest.content import FetchResult, IssueDraft, RenderedIssue
from digest.db import create_schema, make_engine, make_sessionmaker
from digest.deliver import outbox, processes
from digest.deliver.engine import DeliveryReport, SendPolicy, deliver_issue
from digest.deliver.transports import Transport, make_transport
from digest.errors import ConfigError
from digest.flows.feedback import on_send_failures
from digest.gather import feeds, sources
from digest.net import fetch
from digest.models import Issue
from digest.render.html import make_environment, render_issue
from digest.render.dkim import signer_for
from digest.render.message import MessageTemplate, build_template, personalize
from digest.summarize.backends import summarize_articles
from subscribers import confirmed_count, make_unsubscribe_token, normalize_address
from subscribers.db import utcnow

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a pipeline call needs, built once by an entry point."""

    settings: Settings
    sessions: sessionmaker[Session]
    transport_factory: Callable[[], Transport]
    now: Callable[[], datetime] = utcnow
    templates: object = field(default=None)
    processes: int = 1  # sender processes an issue gets: delivery.processes, set by `digest send` and `worker`

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.storage.url)
        create_schema(engine)
        return cls(settings=settings, sessions=make_sessionmaker(engine),
                   transport_factory=lambda: make_transport(settings.delivery),
                   templates=make_environment(settings.render.templates_dir or None))


@dataclass(frozen=True)
class SendOutcome:
    reports: tuple[DeliveryReport, ...]
    fetches: tuple[FetchResult, ...]
    new_issue_id: int | None
    nothing_new: bool
    slot_taken: bool = False
    held_back: int = 0  # fresh articles the new issue had no room for: the next one offers them


def gather_all(rt: Runtime, newsletters: tuple[NewsletterSettings, ...] | None = None,
               stop: threading.Event | None = None) -> list[FetchResult]:
    """Fetch every due source at once (a source shared by newsletters once) and store new articles.

    A source fetched less than its min_interval_minutes ago is not asked
    again; it reports "not modified". Results come back in config order;
    each is stored as soon as its source finishes, in this thread only.
    """
    configured: dict[str, SourceSettings] = {}
    for newsletter in newsletters or rt.settings.newsletters:
        for source in newsletter.sources:
            configured.setdefault(source.url, source)
    g, now = rt.settings.gather, rt.now()
    jobs, results = [], {}
    with rt.sessions() as session:
        for url, source in configured.items():
            state = store.source_state(session, url)
            if state and state.last_fetched_at and source.min_interval_minutes and (
                    now - state.last_fetched_at < timedelta(minutes=source.min_interval_minutes)):
                log.info("source %s: fetched %s ago, less than its min_interval_minutes (%g); not fetched",
                         source.name, str(now - state.last_fetched_at).split(".")[0], source.min_interval_minutes)
                results[url] = FetchResult(source.name, url, not_modified=True)
                continue
            jobs.append(sources.Job(source, fetch_url=(state.fetch_url or "") if state else "",
                                    etag=state.etag if state else None, modified=state.modified if state else None,
                                    first_run=state is None or state.first_fetched_at is None))

    def known(uids):
        with rt.sessions() as session:
            return store.known_uids(session, list(uids))

    # Every configured source's origin is trusted as the operator wrote it, whichever newsletters run now.
    trusted = [s.url for n in rt.settings.newsletters for s in n.sources]
    with fetch.Fetcher.for_settings(g, trusted, stop) as fetcher:
        for job, result in sources.gather_concurrently(fetcher, jobs, g, known, now):
            results[job.source.url] = _store_fetch(rt, job, result)
    return [results[url] for url in configured]


def _store_fetch(rt: Runtime, job: sources.Job, result: FetchResult) -> FetchResult:
    now = rt.now()
    mailable = None
    if job.first_run and not result.error:
        mailable = feeds.select_first_run(result.entries, now, max_items=rt.settings.gather.first_run_max_items,
                                          max_age_days=rt.settings.gather.first_run_max_age_days)
    for attempt in range(3):
        try:
            with rt.sessions() as session, session.begin():
                new, backlog = store.save_fetch(session, result, mailable, now)
            break
        except IntegrityError:
            # Another process stored this source's state or entries between our look and our insert (two
            # sends racing on a first fetch): look again; what it stored is now known, not new.
            if attempt == 2:
                raise
    result = dataclasses.replace(result, new=new, backlog=backlog)
    name = job.source.name
    if result.error:
        metrics.SOURCE_ERRORS.labels(name).inc()
        log.error("source %s skipped: %s", name, result.error)
    else:
        metrics.ARTICLES_GATHERED.labels(name).inc(new)
        log.info("source %s: %s", name, result.summary())
    return result


@dataclass(frozen=True)
class Draft:
    issue: IssueDraft
    rendered: RenderedIssue
    left_out: tuple[int, ...]  # articles this issue uses up without carrying: merged duplicates, expired
    held_back: int = 0  # fresh articles that did not fit: the next issue offers them again


def draft_issue(rt: Runtime, newsletter: NewsletterSettings) -> Draft:
    """Compose and render what the next issue would carry, writing nothing."""
    with rt.sessions() as session:
        articles = store.unsent_articles(session, newsletter.slug, [s.url for s in newsletter.sources])
        previous = store.latest_issue(session, newsletter.slug)
    # Stories that did not fit wait for the next issue while fresh: gathered at most carry_over_hours
    # before the previous issue. Everything gathered since is news whatever the schedule (daily, weekly).
    carry = timedelta(hours=newsletter.carry_over_hours)
    cutoff = previous.created_at - carry if previous is not None else None
    expired = [a.id for a in articles if cutoff is not None and a.fetched_at < cutoff]
    waiting = [a for a in articles if cutoff is None or a.fetched_at >= cutoff]
    bare = [store.to_item(a) for a in waiting[: newsletter.max_items]]
    # Outside the session: an LLM backend may take a while, and needs no database.
    found = summarize_articles([(item.title, item.text) for item in bare],
                               settings=rt.settings.summarize, max_sentences=newsletter.summary_sentences)
    items = [dataclasses.replace(item, summary=tuple(summary)) for item, summary in zip(bare, found, strict=True)]
    issue = compose.build_issue(newsletter, items, rt.now())
    kept = {item.id for item in issue.items}
    held = set(issue.held_back) | {a.id for a in waiting[newsletter.max_items:]}
    merged_away = {item.id for item in bare} - kept - held
    issue = dataclasses.replace(issue, held_back=tuple(sorted(held)))
    if held or expired:
        log.info("%s: %d article(s) held back for the next issue (over max_items = %d or a section's limit); "
                 "%d held longer than carry_over_hours (%g) dropped", newsletter.slug, len(held), newsletter.max_items,
                 len(expired), newsletter.carry_over_hours)
    return Draft(issue, render_issue(issue, rt.settings.site, newsletter, rt.templates,
                                     budget_bytes=rt.settings.render.html_budget_bytes),
                 tuple(expired) + tuple(sorted(merged_away)), held_back=len(held))


def send_newsletter(
    rt: Runtime, slug: str, *, slot: str | None = None, force: bool = False, fetch: bool = True,
    progress: Callable[[DeliveryReport], None] | None = None, stop: threading.Event | None = None,
    deliver: bool = True, resume_paused: bool = False,
) -> SendOutcome:
    """Finish any interrupted issue (and a paused one if resume_paused: `digest send` says so, the
    scheduler does not), gather, then make and send a new issue if there is news.

    With deliver=False the new issue and its outbox are only written, for
    `digest worker` processes (on this or other machines) to send.
    """
    newsletter = rt.settings.newsletter(slug)
    secret = secret_key(rt)
    signer_for(rt.settings.dkim)  # a bad key stops the send before anything is gathered or queued
    with rt.sessions() as session:
        unfinished = list(store.unfinished_issues(session, slug)) if deliver else []
    reports = [send_existing_issue(rt, newsletter, issue, secret, progress, stop, resume=resume_paused)
               for issue in unfinished]
    if stop is not None and stop.is_set():
        return SendOutcome(tuple(reports), (), None, nothing_new=False)
    fetches = tuple(gather_all(rt, (newsletter,), stop)) if fetch else ()
    if stop is not None and stop.is_set():
        log.info("%s: stopped while gathering; no issue made", slug)
        return SendOutcome(tuple(reports), fetches, None, nothing_new=False)
    draft = draft_issue(rt, newsletter)
    if not draft.issue.items and not force:
        log.info("%s: nothing new, no issue made", slug)
        return SendOutcome(tuple(reports), fetches, None, nothing_new=True)
    # A manual send is its own slot: two within one second must still be two issues.
    slot = slot or f"manual-{rt.now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    try:
        with rt.sessions() as session, session.begin():
            issue = store.create_issue(session, draft.issue, draft.rendered, slot, rt.now(), draft.left_out)
    except IntegrityError:
        # Another run made this slot's issue (or took these articles) first: never a second issue.
        log.warning("%s: slot %s already has an issue; not making another", slug, slot)
        return SendOutcome(tuple(reports), fetches, None, nothing_new=False, slot_taken=True)
    metrics.ISSUES.labels(slug).inc()
    if deliver:
        reports.append(send_existing_issue(rt, newsletter, issue, secret, progress, stop))
    return SendOutcome(tuple(reports), fetches, issue.id, nothing_new=False, held_back=draft.held_back)


def send_existing_issue(rt: Runtime, newsletter: NewsletterSettings, issue: Issue, secret: str,
                        progress=None, stop: threading.Event | None = None, resume: bool = False,
                        ) -> DeliveryReport:
    """Deliver what is queued for one issue (`digest worker` calls this for issues made elsewhere)."""
    started = time.monotonic()
    # An hourly cap is a budget each process would count without the others' claims: one process spends it.
    count = 1 if rt.settings.delivery.max_per_hour else rt.processes
    report = processes.deliver_in_processes(rt.sessions, issue.id, count, _send_in_child, (
        rt.settings, issue.id, secret), stop=stop, progress=progress, resume=resume) if count > 1 else (
        _deliver_here(rt, newsletter, issue, secret, progress, stop, resume))
    metrics.SEND_DURATION.labels(newsletter.slug).observe(time.monotonic() - started)
    metrics.MESSAGES_SENT.labels(newsletter.slug).inc(report.sent)
    metrics.MESSAGES_FAILED.labels(newsletter.slug).inc(report.failed)
    log.info("%s issue %d: %d sent, %d failed, %d skipped%s", newsletter.slug, issue.id, report.sent,
             report.failed, report.skipped, f"; paused: {report.paused_reason}" if report.paused_reason else "")
    return report


def _deliver_here(rt: Runtime, newsletter: NewsletterSettings, issue: Issue, secret: str, progress, stop,
                  resume: bool) -> DeliveryReport:
    template = _template(rt, newsletter, RenderedIssue(issue.subject, issue.html, issue.text, issue.personal_mark),
                         f"digest.{issue.id}.{issue.created_at:%Y%m%d%H%M%S}", campaign_id=str(issue.id))

    bounces = rt.settings.bounces

    def build_message(item: outbox.Claimed) -> tuple[str, bytes]:
        """The envelope sender (signed per delivery with bounces.domain: VERP) and the bytes of one delivery."""
        token = make_unsubscribe_token(secret, item.subscriber_id, newsletter.slug)
        sender = returnpath.for_delivery(secret, bounces.local_part, bounces.domain, item.delivery_id) \
            if bounces.domain else template.envelope_from
        return sender, personalize(template, to=item.email, token=token, personal_id=str(item.subscriber_id))

    return deliver_issue(rt.sessions, issue.id, newsletter.slug, build_message, rt.transport_factory,
                         SendPolicy.from_settings(rt.settings.delivery), now=rt.now, stop=stop, progress=progress,
                         resume=resume, on_failures=on_send_failures(rt.settings, rt.now))


def _send_in_child(settings: Settings, issue_id: int, secret: str, *, stop, progress) -> DeliveryReport:
    """One of the processes of a send (delivery.processes): its own database engine and connections."""
    engine = make_engine(settings.storage.url)
    try:
        rt = Runtime(settings, make_sessionmaker(engine), lambda: make_transport(settings.delivery))
        with rt.sessions() as session:
            issue = session.get(Issue, issue_id)
        # The parent resumed the issue if asked; a pause by a sibling must stay a pause.
        return _deliver_here(rt, settings.newsletter(issue.newsletter), issue, secret, progress, stop, False)
    finally:
        engine.dispose()


def resume_unfinished(rt: Runtime, stop: threading.Event | None = None) -> list[DeliveryReport]:
    """Finish every issue left `sending` (a SIGTERM, an SMTP outage, a leader that died mid-send).

    Paused issues are left for `digest send`: they stopped on purpose, after
    failures an operator should look at first.
    """
    with rt.sessions() as session:
        issues = [i for i in store.unfinished_issues(session) if i.status.value == "sending"]
        queued = {i.id: sum(n for state, n in outbox.counts(session, [i.id])[i.id].items()
                            if state in ("queued", "retrying")) for i in issues}
    known = {n.slug: n for n in rt.settings.newsletters}
    reports = []
    for issue in issues:
        if issue.newsletter not in known or (stop is not None and stop.is_set()):
            continue
        log.warning("%s: resuming interrupted issue %d (%d still to send)", issue.newsletter, issue.id,
                    queued[issue.id])
        reports.append(send_existing_issue(rt, known[issue.newsletter], issue, secret_key(rt), stop=stop))
    return reports


def _template(rt: Runtime, newsletter: NewsletterSettings, rendered: RenderedIssue, prefix: str,
              campaign_id: str = "test") -> MessageTemplate:
    site = rt.settings.site
    return build_template(rendered, from_address=newsletter.from_address, list_id=newsletter.slug,
                          list_name=newsletter.title, base_url=site.base_url,
                          unsubscribe_mailbox=site.unsubscribe_mailbox, message_id_prefix=prefix, date=rt.now(),
                          reply_to=newsletter.reply_to, feedback_id=site.feedback_id, campaign_id=campaign_id,
                          signer=signer_for(rt.settings.dkim))



def secret_key(rt: Runtime) -> str:
    site = rt.settings.site
    if not site.secret_key:
        raise ConfigError(
            f"the environment variable {site.secret_key_env} is not set",
            hint="it signs every reader's unsubscribe link; set it to a long random string and keep it",
        )
    return site.secret_key


def preview(rt: Runtime, slug: str, *, fetch: bool = True) -> tuple[IssueDraft, RenderedIssue]:
    """The next issue as it would go out; marks nothing as sent (the unsubscribe link is a sample)."""
    newsletter = rt.settings.newsletter(slug)
    if fetch:
        gather_all(rt, (newsletter,))
    draft = draft_issue(rt, newsletter)
    rendered = draft.rendered
    sample = f"{rt.settings.site.base_url.rstrip('/')}/unsubscribe?token=preview"
    rendered = _unstored(rendered)
    return draft.issue, RenderedIssue(rendered.subject, rendered.html.replace(rendered.mark, sample),
                                      rendered.text.replace(rendered.mark, sample), rendered.mark)


def _unstored(rendered: RenderedIssue) -> RenderedIssue:
    """An issue that will never have an id (a preview, a test copy): its web link shows that day's latest."""
    web = f"?issue={rendered.web_mark}"
    return dataclasses.replace(rendered, html=rendered.html.replace(web, ""), text=rendered.text.replace(web, ""),
                               web_mark="")


def recipient_count(rt: Runtime, slug: str) -> int:
    with rt.sessions() as session:
        return confirmed_count(session, slug)


def test_send(rt: Runtime, slug: str, address: str, *, fetch: bool = True) -> RenderedIssue:
    """Send the next issue to one address now; stores no issue and marks nothing."""
    newsletter = rt.settings.newsletter(slug)
    address = normalize_address(address)
    if fetch:
        gather_all(rt, (newsletter,))
    rendered = draft_issue(rt, newsletter).rendered
    rendered = dataclasses.replace(_unstored(rendered), subject=f"[Test] {rendered.subject}")  # never the real one
    template = _template(rt, newsletter, rendered, f"digest.test.{rt.now():%Y%m%d%H%M%S%f}")
    message = personalize(template, to=address, token="test-send", personal_id="0")
    transport = rt.transport_factory()
    transport.open()
    try:
        transport.send(template.envelope_from, address, message)
    finally:
        transport.close()
    return rendered


def status(settings, sessions, clock, *, role: str, scheduler=None, last_runs: dict | None = None) -> dict:
    """What /status shows: the role, and per newsletter its next fire and its last issue with counts."""
    now = clock()
    newsletters = []
    with sessions() as session:
        for newsletter in settings.newsletters:
            job = scheduler.get_job(f"send-{newsletter.slug}") if scheduler else None
            trigger = make_trigger(newsletter.schedule, ZoneInfo(newsletter.timezone))
            next_fire = job.next_run_time if job else trigger.get_next_fire_time(None, now)
            issue = store.latest_issue(session, newsletter.slug)
            last = None
            if issue is not None:
                last = {"id": issue.id, "slot": issue.slot, "status": issue.status.value,
                        "subject": issue.subject, "counts": outbox.counts(session, [issue.id])[issue.id]}
            newsletters.append({"slug": newsletter.slug, "schedule": newsletter.schedule,
                                "timezone": newsletter.timezone,
                                "next_fire": next_fire.isoformat() if next_fire else None,
                                "last_issue": last, "last_run": (last_runs or {}).get(newsletter.slug)})
    return {"role": role, "now": now.isoformat(), "newsletters": newsletters}


__all__ = ["Draft", "Runtime", "SendOutcome", "draft_issue", "gather_all", "preview", "recipient_count",
           "resume_unfinished", "send_newsletter", "status", "test_send"]
