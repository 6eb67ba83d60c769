"""What a newsletter remembers about stories: the versions its recent issues carried, and the editors' choices.

A draft reads both (compose.updates.Memory): a story readers already had is not sent again
unless it brings substantial new text, and a pair of articles an editor split or merged stays
so in every later draft, however the evidence reads. How much is read is bounded
(compose.updates: SENT_ISSUES, SENT_DAYS, SENT_ITEMS; MAX_CHOICES), so a long-lived
newsletter drafts as fast as a new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select

from digest import audience
from digest.compose.stories import StoryItem
from digest.compose.updates import SENT_DAYS, SENT_ISSUES, SENT_ITEMS, Memory, Sent
from digest.models import Article, Issue, IssueArticle, StoryChoice
from digest.render.html import issue_path, site_url
from digest.settings import NewsletterSettings, SiteSettings

MAX_CHOICES = 5000  # editor's choices read per draft, the latest first
CHOICES = ("split", "merge")


def recall(session, newsletter: NewsletterSettings, site: SiteSettings, now: datetime,
           candidates: Iterable[int]) -> Memory:
    """The earlier versions and the editors' choices that bear on a draft of these candidate articles."""
    return Memory(sent=tuple(sent_versions(session, newsletter, site, now)),
                  **choices(session, newsletter.slug, candidates))


def sent_versions(session, newsletter: NewsletterSettings, site: SiteSettings, now: datetime) -> list[Sent]:
    """The items the newsletter's last issues of news showed (not roundups, not left-out copies), newest first."""
    issues = session.execute(
        select(Issue.id, Issue.created_at).where(Issue.newsletter == newsletter.slug, Issue.kind != audience.ROUNDUP,
                                                 Issue.created_at >= now - timedelta(days=SENT_DAYS))
        .order_by(Issue.id.desc()).limit(SENT_ISSUES)).all()
    if not issues:
        return []
    zone = ZoneInfo(newsletter.timezone)
    link = {issue_id: site_url(site, issue_path(newsletter.slug, created.astimezone(zone))) + f"?issue={issue_id}"
            for issue_id, created in issues}
    rows = session.execute(
        select(IssueArticle.issue_id, Article).join(Article, Article.id == IssueArticle.article_id)
        .where(IssueArticle.issue_id.in_(list(link)), IssueArticle.included.is_(True))
        .order_by(IssueArticle.issue_id.desc(), IssueArticle.position).limit(SENT_ITEMS)).all()
    return [Sent(StoryItem(id=str(article.id), title=article.title, text=article.text,
                           published=None if article.undated else article.published_at, source=article.source_name),
                 issue_id, link[issue_id]) for issue_id, article in rows]


def choices(session, slug: str, candidates: Iterable[int]) -> dict[str, tuple[tuple[int, int], ...]]:
    """{"together": pairs, "apart": pairs} of article ids an editor merged or split, touching the candidates."""
    ids = list(set(candidates))
    if not ids:
        return {"together": (), "apart": ()}
    touching = or_(*(column.in_(ids[k:k + 500]) for k in range(0, len(ids), 500)
                     for column in (StoryChoice.first_id, StoryChoice.second_id)))
    rows = session.execute(select(StoryChoice.first_id, StoryChoice.second_id, StoryChoice.choice)
                           .where(StoryChoice.newsletter == slug, touching)
                           .order_by(StoryChoice.at.desc(), StoryChoice.id.desc()).limit(MAX_CHOICES)).all()
    return {"together": tuple((a, b) for a, b, choice in rows if choice == "merge"),
            "apart": tuple((a, b) for a, b, choice in rows if choice == "split")}


def remember(session, slug: str, pairs: Iterable[tuple[int, int]], choice: str, operator: str,
             now: datetime) -> int:
    """Store an editor's word on each pair (the latest word on a pair replaces an earlier one); how many pairs."""
    if choice not in CHOICES:
        raise ValueError(f"unknown story choice {choice!r}")
    wanted = {(min(a, b), max(a, b)) for a, b in pairs if a != b}
    if not wanted:
        return 0
    existing = {(row.first_id, row.second_id): row for row in session.scalars(select(StoryChoice).where(
        StoryChoice.newsletter == slug, or_(*(and_(StoryChoice.first_id == a, StoryChoice.second_id == b)
                                              for a, b in wanted))))}
    for pair in sorted(wanted):
        row = existing.get(pair)
        if row is None:
            session.add(StoryChoice(newsletter=slug, first_id=pair[0], second_id=pair[1], choice=choice,
                                    operator=operator, at=now))
        else:
            row.choice, row.operator, row.at = choice, operator, now
    session.flush()
    return len(wanted)


__all__ = ["CHOICES", "MAX_CHOICES", "choices", "recall", "remember", "sent_versions"]
