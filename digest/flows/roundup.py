"""The weekly roundup: the week's issues' top items per section, for readers who chose it over every issue.

A roundup is an issue like any other (keyed by its slot, so restarts and
several daemons never make two; the same review flow when review is on), made
from what the week's issues carried rather than from new articles: per
section, each day's lead stories first, then the next ones, `roundup_items`
of them, one story once however many days carried it. Its outbox holds only
the readers who chose the roundup (audience.fill_outbox); they get no daily issue.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from digest import audience, compose, metrics, store
from digest.content import ArticleItem, IssueDraft, Section
from digest.deliver.engine import DeliveryReport
from digest.flows.clicklinks import count_links
from digest.flows.drafting import Draft, section_renderer
from digest.flows.runtime import Runtime, secret_key
from digest.flows.sending import send_existing_issue
from digest.render.html import render_issue
from digest.render import i18n
from digest.settings import NewsletterSettings
from digest.summarize.backends import summarize_articles

log = logging.getLogger(__name__)
ROUNDUP_SLOT = "roundup-"  # a roundup's slot: "roundup-" + the scheduler's slot key
WEEK = timedelta(days=7)


def title(newsletter: NewsletterSettings) -> str:
    """The roundup's title (and so its subject) in the newsletter's language, or its operator's own words."""
    words = i18n.translator(newsletter.language or "en", i18n.own_texts(newsletter))
    return words.gettext(i18n.N_("%(newsletter)s: the week")) % {"newsletter": newsletter.title}


def choose(newsletter: NewsletterSettings, rows: list[tuple[str, int, datetime, ArticleItem]]
           ) -> list[tuple[str, list[ArticleItem]]]:
    """(section, items) in the newsletter's section order: per section the best-ranked items of the week (rank in
    their issue's section, then the newer issue), at most roundup_items, no story twice across sections."""
    priority = {source.name: source.priority for source in newsletter.sources}
    kept = {item.id for item in compose.merge_duplicates([item for *_, item in rows], priority)}
    order = {title: i for i, title in enumerate(compose.section_titles(newsletter))}
    by_section: dict[str, list[tuple[int, float, ArticleItem]]] = {}
    for section, rank, at, item in rows:
        by_section.setdefault(section, []).append((rank, -at.timestamp(), item))
    chosen: list[tuple[str, list[ArticleItem]]] = []
    seen: set[str] = set()
    for section in sorted(by_section, key=lambda t: (order.get(t, len(order)), t)):
        picked = []
        for _rank, _at, item in sorted(by_section[section], key=lambda r: (r[0], r[1])):
            if item.id in kept and item.link not in seen and len(picked) < newsletter.roundup_items:
                seen.add(item.link)
                picked.append(item)
        if picked:
            chosen.append((section, picked))
    return chosen


def draft_roundup(rt: Runtime, newsletter: NewsletterSettings, slot_at: datetime) -> Draft:
    """The roundup for the week up to slot_at, summarized and rendered, writing nothing."""
    with rt.sessions() as session:
        rows = [(section, rank, at, store.to_item(article))
                for section, rank, at, article in store.week_items(session, newsletter.slug, slot_at - WEEK, slot_at)]
    sections = choose(newsletter, rows)
    flat = [item for _, items in sections for item in items]
    found = summarize_articles([(item.title, item.text) for item in flat], settings=rt.settings.summarize,
                               max_sentences=newsletter.summary_sentences)
    summaries = {item.id: tuple(summary) for item, summary in zip(flat, found, strict=True)}
    issue = IssueDraft(newsletter.slug, title(newsletter), newsletter.description,
                       slot_at.astimezone(ZoneInfo(newsletter.timezone)),
                       tuple(Section(title, tuple(dataclasses.replace(i, summary=summaries[i.id]) for i in items))
                             for title, items in sections))
    return Draft(issue, render_issue(issue, rt.settings.site, newsletter, rt.templates,
                                     budget_bytes=rt.settings.render.html_budget_bytes), ())


def send_roundup(rt: Runtime, slug: str, slot: str, slot_at: datetime, *, stop=None,
                 deliver: bool = True) -> tuple[int | None, DeliveryReport | None, str]:
    """(issue id, report, what happened) for one roundup slot; made at most once per slot."""
    newsletter = rt.settings.newsletter(slug)
    draft = draft_roundup(rt, newsletter, slot_at)
    if not draft.issue.items:
        return None, None, "no issue this week: no roundup"
    try:
        with rt.sessions() as session, session.begin():
            issue = store.create_issue(session, draft.issue, draft.rendered, slot, rt.now(),
                                       render=section_renderer(rt, newsletter, draft.issue), roundup=True,
                                       kind=audience.ROUNDUP)
            count_links(rt, session, issue, draft.issue)
    except IntegrityError:
        return None, None, "this slot already had its roundup"
    metrics.ISSUES.labels(slug).inc()
    if not deliver:
        return issue.id, None, f"roundup {issue.id} queued"
    report = send_existing_issue(rt, newsletter, issue, secret_key(rt), stop=stop)
    return issue.id, report, f"roundup {issue.id}: {report.sent} sent"


__all__ = ["ROUNDUP_SLOT", "WEEK", "choose", "draft_roundup", "send_roundup", "title"]
