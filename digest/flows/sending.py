"""Sending an issue: the one place that knows the stage order, gather -> summarize -> compose -> render -> deliver.

Entry points call these; stages never call each other. Database and network
I/O happen here and in store / transports, so each stage stays a function of
plain data. A send first finishes what an earlier one left, so running it again
after a crash resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from digest import metrics, returnpath, store
from digest.settings import NewsletterSettings, Settings
from digest.content import FetchResult, RenderedIssue
from digest.db import make_engine, make_sessionmaker
from digest.deliver import outbox, processes
from digest.deliver.engine import DeliveryReport, SendPolicy, deliver_issue
from digest.deliver.transports import make_transport
from digest.flows.clicklinks import count_links, reader_links
from digest.flows.drafting import draft_issue, section_renderer, unstored
from digest.flows.feedback import on_send_failures
from digest.flows.gathering import gather_all
from digest.flows.runtime import Runtime, secret_key
from digest.models import Issue
from digest.render.dkim import signer_for
from digest.render.message import MessageTemplate, build_template, personalize
from subscribers import make_unsubscribe_token, normalize_address

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendOutcome:
    reports: tuple[DeliveryReport, ...]
    fetches: tuple[FetchResult, ...]
    new_issue_id: int | None
    nothing_new: bool
    slot_taken: bool = False
    held_back: int = 0  # fresh articles the new issue had no room for: the next one offers them


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
            issue = store.create_issue(session, draft.issue, draft.rendered, slot, rt.now(), draft.left_out,
                                       render=section_renderer(rt, newsletter, draft.issue),
                                       roundup=bool(newsletter.roundup_schedule))
            count_links(rt, session, issue, draft.issue)
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
    prefix = f"digest.{issue.id}.{issue.created_at:%Y%m%d%H%M%S}"
    with rt.sessions() as session:
        bodies = {None: (issue.html, issue.text), **store.variants_of(session, issue.id)}
        readers = reader_links(rt, session, issue)  # analytics.per_reader: each reader's part in the links
    # Built when the first reader of each rendering (sections, plain text or not) comes up, then reused.
    templates: dict[tuple[int | None, bool], MessageTemplate] = {}

    def template_for(variant_id: int | None, plain_text: bool) -> MessageTemplate:
        key = (variant_id, plain_text)
        if key not in templates:
            html, text = bodies[variant_id]
            templates[key] = _template(rt, newsletter, RenderedIssue(issue.subject, html, text, issue.personal_mark),
                                       prefix, campaign_id=str(issue.id), text_only=plain_text,
                                       reader_links=readers.links if readers else ())
        return templates[key]

    bounces = rt.settings.bounces
    envelope_from = template_for(None, False).envelope_from

    def build_message(item: outbox.Claimed) -> tuple[str, bytes]:
        """The envelope sender (signed per delivery with bounces.domain: VERP) and the bytes of one delivery."""
        token = make_unsubscribe_token(secret, item.subscriber_id, newsletter.slug)
        sender = returnpath.for_delivery(secret, bounces.local_part, bounces.domain, item.delivery_id) \
            if bounces.domain else envelope_from
        chosen = template_for(item.variant_id, item.plain_text)
        return sender, personalize(chosen, to=item.email, token=token, personal_id=str(item.subscriber_id),
                                   reader=readers.part(item.subscriber_id) if readers else "")

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


def _template(rt: Runtime, newsletter: NewsletterSettings, rendered: RenderedIssue, prefix: str,
              campaign_id: str = "test", text_only: bool = False, reader_links: tuple[str, ...] = ()
              ) -> MessageTemplate:
    site = rt.settings.site
    return build_template(rendered, from_address=newsletter.from_address, list_id=newsletter.slug,
                          list_name=newsletter.title, base_url=site.base_url,
                          unsubscribe_mailbox=site.unsubscribe_mailbox, message_id_prefix=prefix, date=rt.now(),
                          reply_to=newsletter.reply_to, feedback_id=site.feedback_id, campaign_id=campaign_id,
                          signer=signer_for(rt.settings.dkim), text_only=text_only,
                          language=newsletter.language or site.language, reader_links=reader_links)


def test_send(rt: Runtime, slug: str, address: str, *, fetch: bool = True) -> RenderedIssue:
    """Send the next issue to one address now; stores no issue and marks nothing."""
    newsletter = rt.settings.newsletter(slug)
    address = normalize_address(address)
    if fetch:
        gather_all(rt, (newsletter,))
    rendered = draft_issue(rt, newsletter).rendered
    rendered = dataclasses.replace(unstored(rendered), subject=f"[Test] {rendered.subject}")  # never the real one
    template = _template(rt, newsletter, rendered, f"digest.test.{rt.now():%Y%m%d%H%M%S%f}")
    message = personalize(template, to=address, token="test-send", personal_id="0")
    transport = rt.transport_factory()
    transport.open()
    try:
        transport.send(template.envelope_from, address, message)
    finally:
        transport.close()
    return rendered


__all__ = ["SendOutcome", "send_existing_issue", "send_newsletter", "test_send"]
