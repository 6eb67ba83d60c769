"""Reads and writes of digest's own rows, in one place.

The stages are pure; the flows call these functions at the edges. Each
takes a session and leaves committing to the caller, so the flow decides
what is one transaction (an issue, its article links and its outbox rows are
written together, or not at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from digest import audience
from digest.content import ArticleItem, FetchResult, IssueDraft, RenderedIssue, strip_bidi
from digest.models import Article, Delivery, Issue, IssueArticle, IssueStatus, IssueVariant, SourceState


def source_state(session: Session, url: str) -> SourceState | None:
    return session.scalar(select(SourceState).where(SourceState.url == url))


def known_uids(session: Session, uids: Sequence[str]) -> set[str]:
    """Which of these entry uids are stored already (so their pages need not be fetched again)."""
    known: set[str] = set()
    for start in range(0, len(uids), 500):
        known |= set(session.scalars(select(Article.uid).where(Article.uid.in_(list(uids[start:start + 500])))))
    return known


def save_fetch(session: Session, result: FetchResult, mailable: set[str] | None, now: datetime
               ) -> tuple[int, int]:
    """Record one fetch and store its new entries; returns how many articles were new.

    `mailable` is None for a source we have fetched before; on a first run it
    names the entries that may be mailed and the rest is stored as backlog.
    """
    state = source_state(session, result.source_url) or SourceState(url=result.source_url, failures=0)
    session.add(state)
    state.last_fetched_at = now
    if result.fetch_url is not None:
        state.fetch_url = result.fetch_url or None
    if result.error:
        state.last_error = result.error
        state.failures = (state.failures or 0) + 1
        return 0, 0
    state.last_error, state.failures, state.last_success_at = None, 0, now
    if result.not_modified:
        return 0, 0
    state.etag, state.modified = result.etag, result.modified
    state.first_fetched_at = state.first_fetched_at or now
    uids = [entry.uid for entry in result.entries]
    known = set(session.scalars(select(Article.uid).where(Article.uid.in_(uids)))) if uids else set()
    new = backlog = 0
    for entry in result.entries:
        if entry.uid in known:
            continue
        known.add(entry.uid)
        backlog += mailable is not None and entry.uid not in mailable
        session.add(Article(
            uid=entry.uid, source_url=result.source_url, source_name=entry.source_name, link=entry.link,
            title=entry.title, text=entry.text, author=entry.author, categories="\n".join(entry.categories),
            published_at=min(entry.published or now, now), undated=entry.published is None, fetched_at=now,
            backlog=mailable is not None and entry.uid not in mailable,
            image_url=entry.image_url, image_alt=entry.image_alt, image_width=entry.image_width,
        ))
        new += 1
    session.flush()
    return new, backlog


def unsent_articles(session: Session, newsletter: str, source_urls: Iterable[str]) -> Sequence[Article]:
    """Articles from these sources that no issue of this newsletter has carried."""
    already = select(IssueArticle.article_id).where(IssueArticle.newsletter == newsletter)
    query = select(Article).where(
        Article.source_url.in_(list(source_urls)), Article.backlog.is_(False), Article.id.not_in(already)
    )
    return session.scalars(query.order_by(Article.published_at.desc(), Article.id.desc())).all()


def to_item(article: Article, summary: Sequence[str] = ()) -> ArticleItem:
    """A stored article as the stages see it: feed text without directional controls (content.strip_bidi),
    whichever version of digest stored it."""
    return ArticleItem(
        id=article.id, title=strip_bidi(article.title), link=article.link, source_name=strip_bidi(article.source_name),
        published=None if article.undated else article.published_at,
        categories=tuple(strip_bidi(c) for c in article.categories.split("\n") if c),
        text=strip_bidi(article.text), summary=tuple(strip_bidi(s) for s in summary),
        image_url=article.image_url or "", image_alt=strip_bidi(article.image_alt or ""),
        image_width=article.image_width or 0,
    )


def create_issue(
    session: Session, draft: IssueDraft, rendered: RenderedIssue, slot: str, now: datetime,
    left_out: Iterable[int] = (), *, render: audience.RenderVariant | None = None, roundup: bool = False,
    kind: str = "issue",
) -> Issue:
    """The issue, its article links and its outbox (a snapshot of confirmed, unsuppressed subscribers, by their
    own choices: audience.fill_outbox), together.

    `left_out` are candidate article ids that did not fit; they are linked as
    not included so they never resurface in a later issue as news.
    """
    issue = Issue(newsletter=draft.newsletter, slot=slot, created_at=now, status=IssueStatus.sending,
                  subject=rendered.subject, html=rendered.html, text=rendered.text,
                  personal_mark=rendered.mark, kind=kind)
    session.add(issue)
    session.flush()
    if rendered.web_mark:  # the issue's own permanent web address, now that it has an id
        issue.html = issue.html.replace(rendered.web_mark, str(issue.id))
        issue.text = issue.text.replace(rendered.web_mark, str(issue.id))
    position = 0
    # A roundup carries articles earlier issues of the week linked already: it links none of its own.
    for section in draft.sections if kind != audience.ROUNDUP else ():
        for item in section.items:
            session.add(IssueArticle(issue_id=issue.id, article_id=item.id, newsletter=draft.newsletter,
                                     section=section.title, position=position))
            position += 1
    for article_id in left_out:
        session.add(IssueArticle(issue_id=issue.id, article_id=article_id, newsletter=draft.newsletter,
                                 section="", position=-1, included=False))
    audience.fill_outbox(session, issue, now, tuple(section.title for section in draft.sections),
                         render or (lambda _titles: rendered), roundup)
    session.flush()
    return issue


def week_items(session: Session, newsletter: str, since: datetime, until: datetime
               ) -> list[tuple[str, int, datetime, Article]]:
    """(section, rank in that section of its issue, the issue's time, article) of every item the newsletter's
    issues (not roundups) carried in (since, until]: what a weekly roundup chooses from."""
    rows = session.execute(
        select(IssueArticle.issue_id, IssueArticle.section, IssueArticle.position, Issue.created_at, Article)
        .join(Issue, Issue.id == IssueArticle.issue_id).join(Article, Article.id == IssueArticle.article_id)
        .where(Issue.newsletter == newsletter, Issue.kind != "roundup", IssueArticle.included.is_(True),
               Issue.created_at > since, Issue.created_at <= until)
        .order_by(Issue.created_at, IssueArticle.position)).all()
    first: dict[tuple[int, str], int] = {}
    out = []
    for issue_id, section, position, created_at, article in rows:
        lead = first.setdefault((issue_id, section), position)
        out.append((section, position - lead, created_at, article))
    return out


def variants_of(session: Session, issue_id: int) -> dict[int, tuple[str, str]]:
    """(html, text) of each rendering of an issue for a choice of sections, by id."""
    return {row.id: (row.html, row.text) for row in session.execute(
        select(IssueVariant.id, IssueVariant.html, IssueVariant.text).where(IssueVariant.issue_id == issue_id))}


def scheduled_slots(session: Session, newsletter: str) -> set[str]:
    """Slots the scheduler already made an issue for (manual sends have their own "manual-" slots)."""
    return set(session.scalars(select(Issue.slot).where(Issue.newsletter == newsletter,
                                                        Issue.slot.not_like("manual-%"))))


def latest_issue(session: Session, newsletter: str) -> Issue | None:
    """The newsletter's latest issue of news (a roundup carries no new articles, so it sets no carry-over)."""
    return session.scalar(select(Issue).where(Issue.newsletter == newsletter, Issue.kind != audience.ROUNDUP)
                          .order_by(Issue.id.desc()).limit(1))


def unfinished_issues(session: Session, newsletter: str | None = None) -> Sequence[Issue]:
    """Issues still sending or paused (a paused issue resumes when someone sends again)."""
    query = select(Issue).where(Issue.status.in_((IssueStatus.sending, IssueStatus.paused)))
    if newsletter:
        query = query.where(Issue.newsletter == newsletter)
    return session.scalars(query.order_by(Issue.id)).all()


def deliveries_of(session: Session, email: str) -> list[dict]:
    """Every digest sent (or queued) to one address, for a reader's data request."""
    rows = session.execute(
        select(Issue.newsletter, Issue.subject, Delivery.status, Delivery.sent_at, Delivery.last_error)
        .join(Issue, Issue.id == Delivery.issue_id).where(Delivery.email == email).order_by(Delivery.id))
    return [{"newsletter": newsletter, "subject": subject, "status": status.value,
             "sent_at": sent_at.isoformat() if sent_at else None, "error": error}
            for newsletter, subject, status, sent_at, error in rows]


def forget_deliveries(session: Session, subscriber_id: int) -> None:
    """An erased person's outbox rows hold their address: they go with the rest of their data."""
    session.execute(delete(Delivery).where(Delivery.subscriber_id == subscriber_id))
