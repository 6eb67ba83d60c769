"""Making an issue: the stored articles summarized, composed into sections and rendered, writing nothing.

The send, the preview, the test copy and the editor's review all start from
`draft_issue`, so what an editor or a preview sees is what the slot would send.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta

from digest import compose, store
from digest.settings import NewsletterSettings
from digest.content import IssueDraft, RenderedIssue
from digest.flows import story_memory
from digest.flows.gathering import gather_all
from digest.flows.runtime import Runtime
from digest.render.html import render_issue
from digest.summarize.backends import summarize_articles

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    issue: IssueDraft
    rendered: RenderedIssue
    left_out: tuple[int, ...]  # articles this issue uses up without carrying: merged duplicates, repeats, expired
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
    with rt.sessions() as session:  # stories recent issues carried, and the editors' splits and merges (issue 32)
        memory = story_memory.recall(session, newsletter, rt.settings.site, rt.now(), [item.id for item in bare])
    # Outside the session: an LLM backend may take a while, and needs no database.
    found = summarize_articles([(item.title, item.text) for item in bare],
                               settings=rt.settings.summarize, max_sentences=newsletter.summary_sentences)
    items = [dataclasses.replace(item, summary=tuple(summary)) for item, summary in zip(bare, found, strict=True)]
    issue = compose.build_issue(newsletter, items, rt.now(), memory)
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


def section_renderer(rt: Runtime, newsletter: NewsletterSettings, issue: IssueDraft):
    """Renders the issue with only some of its sections, for readers who chose those (audience.fill_outbox)."""
    def render(titles: tuple[str, ...]) -> RenderedIssue:
        kept = dataclasses.replace(issue, sections=tuple(s for s in issue.sections if s.title in titles))
        return render_issue(kept, rt.settings.site, newsletter, rt.templates,
                            budget_bytes=rt.settings.render.html_budget_bytes)
    return render


def preview(rt: Runtime, slug: str, *, fetch: bool = True) -> tuple[IssueDraft, RenderedIssue]:
    """The next issue as it would go out; marks nothing as sent (the unsubscribe link is a sample)."""
    newsletter = rt.settings.newsletter(slug)
    if fetch:
        gather_all(rt, (newsletter,))
    draft = draft_issue(rt, newsletter)
    rendered = draft.rendered
    sample = f"{rt.settings.site.base_url.rstrip('/')}/unsubscribe?token=preview"
    rendered = unstored(rendered)
    return draft.issue, RenderedIssue(rendered.subject, rendered.html.replace(rendered.mark, sample),
                                      rendered.text.replace(rendered.mark, sample), rendered.mark)


def unstored(rendered: RenderedIssue) -> RenderedIssue:
    """An issue that will never have an id (a preview, a test copy): its web link shows that day's latest."""
    web = f"?issue={rendered.web_mark}"
    return dataclasses.replace(rendered, html=rendered.html.replace(web, ""), text=rendered.text.replace(web, ""),
                               web_mark="")


__all__ = ["Draft", "draft_issue", "preview", "section_renderer", "unstored"]
