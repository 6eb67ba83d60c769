"""What editors see (issue 26): per issue and per link, people (estimated) beside all requests.

Raw rows (the last analytics.retention_days) and the daily roll-up count
alike. "People" is the clicks no machine rule caught (analytics.classify);
"requests" is everything, scanners included. Opens (the pixel) are kept
apart and never added to either: a mail client or proxy fetching images
is no reader.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.analytics.classify import PERSON
from digest.models import Article, Issue
from digest.models_clicks import Click, ClickDay, ClickLink

HOW = ("People (estimated): requests that no machine rule caught. A request is a machine's when it is a HEAD "
       "or a prefetch, comes from a known scanner or library, follows the hidden link no person sees (or comes "
       "from the same network within seconds of it), is one of several links from one network within a second, "
       "or comes in the first 30 seconds after the issue's first delivery.")


@dataclass
class LinkFigures:
    number: int
    kind: str  # link, canary, open
    url: str
    title: str
    section: str
    people: int = 0
    requests: int = 0


@dataclass
class IssueFigures:
    issue_id: int
    links: list[LinkFigures]  # the article links, in the issue's order
    people: int = 0
    requests: int = 0  # requests to article links, machines included
    opens_people: int = 0
    opens: int = 0
    canary: int = 0
    machines: Counter = field(default_factory=Counter)  # raw rows only: rule -> requests


def issue_figures(session: Session, issue_ids: list[int]) -> dict[int, IssueFigures]:
    """Figures of each of these issues that had counted links."""
    links: dict[tuple[int, int], LinkFigures] = {}
    for row in session.scalars(select(ClickLink).where(ClickLink.issue_id.in_(issue_ids))
                               .order_by(ClickLink.issue_id, ClickLink.number)):
        links[(row.issue_id, row.number)] = LinkFigures(row.number, row.kind, row.url, row.title, row.section)
    figures = {i: IssueFigures(i, [f for (j, _n), f in links.items() if j == i and f.kind == "link"])
               for i in {k[0] for k in links}}
    raw = session.execute(select(Click.issue_id, Click.number, Click.verdict, func.count())
                          .where(Click.issue_id.in_(issue_ids)).group_by(Click.issue_id, Click.number, Click.verdict))
    for issue_id, number, verdict, count in raw:
        _add(figures, links, issue_id, number, count if verdict == PERSON else 0, count)
        if verdict != PERSON and issue_id in figures:
            figures[issue_id].machines[verdict] += count
    days = session.execute(select(ClickDay.issue_id, ClickDay.number, func.sum(ClickDay.people),
                                  func.sum(ClickDay.machines)).where(ClickDay.issue_id.in_(issue_ids))
                           .group_by(ClickDay.issue_id, ClickDay.number))
    for issue_id, number, people, machines in days:
        _add(figures, links, issue_id, number, people or 0, (people or 0) + (machines or 0))
    return figures


def _add(figures, links, issue_id: int, number: int, people: int, requests: int) -> None:
    link, issue = links.get((issue_id, number)), figures.get(issue_id)
    if link is None or issue is None:
        return
    link.people += people
    link.requests += requests
    if link.kind == "link":
        issue.people += people
        issue.requests += requests
    elif link.kind == "open":
        issue.opens_people += people
        issue.opens += requests
    else:
        issue.canary += requests


def newsletter_issues(session: Session, newsletter: str | None, limit: int = 50) -> list[tuple[Issue, IssueFigures]]:
    """The latest issues with counted links (of one newsletter, or all), newest first, with their figures."""
    query = select(Issue).where(select(ClickLink.issue_id).where(ClickLink.issue_id == Issue.id).exists())
    if newsletter:
        query = query.where(Issue.newsletter == newsletter)
    issues = session.scalars(query.order_by(Issue.id.desc()).limit(limit)).all()
    figures = issue_figures(session, [i.id for i in issues])
    return [(issue, figures[issue.id]) for issue in issues if issue.id in figures]


def top_items(session: Session, newsletter: str | None, since: datetime, limit: int = 10) -> list[LinkFigures]:
    """The article links people followed most since then (clicks after `since`, of any issue), one row a URL."""
    query = (select(ClickLink, func.count()).join(Click, (Click.issue_id == ClickLink.issue_id)
                                                 & (Click.number == ClickLink.number))
             .where(Click.at >= since, Click.verdict == PERSON, ClickLink.kind == "link")
             .group_by(ClickLink.issue_id, ClickLink.number))
    if newsletter:
        query = query.join(Issue, Issue.id == ClickLink.issue_id).where(Issue.newsletter == newsletter)
    merged: dict[str, LinkFigures] = {}
    for link, count in session.execute(query):
        row = merged.setdefault(link.url, LinkFigures(link.number, link.kind, link.url, link.title, link.section))
        row.people += count
    return sorted(merged.values(), key=lambda f: -f.people)[:limit]


def last_choices(session: Session, newsletter: str) -> tuple[int, list[tuple[str, int, int]],
                                                            list[tuple[str, int, int]]] | None:
    """What readers chose from the newsletter's latest issue with counted links: (issue id, per section and
    per source (name, stories, people)), most chosen first; for the editor drafting the next one."""
    latest = session.scalar(select(func.max(ClickLink.issue_id)).join(Issue, Issue.id == ClickLink.issue_id)
                            .where(Issue.newsletter == newsletter))
    if latest is None:
        return None
    figures = issue_figures(session, [latest])[latest]
    articles = {row.number: row.article_id for row in session.scalars(
        select(ClickLink).where(ClickLink.issue_id == latest, ClickLink.kind == "link"))}
    sources = dict(session.execute(select(Article.id, Article.source_name).where(
        Article.id.in_({a for a in articles.values() if a is not None}))).all())
    by_section: dict[str, list[int]] = {}
    by_source: dict[str, list[int]] = {}
    for link in figures.links:
        for table, name in ((by_section, link.section), (by_source, sources.get(articles.get(link.number), ""))):
            totals = table.setdefault(name or "-", [0, 0])
            totals[0] += 1
            totals[1] += link.people
    ordered = [sorted(((n, s, p) for n, (s, p) in t.items()), key=lambda r: (-r[2], r[0])) for t in (by_section,
                                                                                                    by_source)]
    return latest, ordered[0], ordered[1]


__all__ = ["HOW", "last_choices", "IssueFigures", "LinkFigures", "issue_figures", "newsletter_issues", "top_items"]
