"""Counted links for a new issue (issue 26): its targets stored, its bodies' article links through /r/.

Called by each flow that makes an issue, in the issue's own transaction,
right after store.create_issue: only then has the issue the id its tokens
carry, and every rendering of it (the sections variants too) exists. With
analytics off for the newsletter it does nothing and the issue keeps its
links as rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.analytics.readers import all_opted_out
from digest.content import IssueDraft
from digest.flows.runtime import Runtime, secret_key
from digest.models import Issue, IssueVariant
from digest.models_clicks import ClickLink
from digest.render.links import add_beacons, click_key, link_token, reader_parts, rewrite_links
from digest.settings import NewsletterSettings, Settings


def counting(settings: Settings, newsletter: NewsletterSettings) -> tuple[bool, bool]:
    """(clicks, opens) for this newsletter: on if [analytics] or the newsletter's own table says so."""
    site, own = settings.analytics, newsletter.analytics
    return site.clicks or own.clicks, site.opens or own.opens


def per_reader(settings: Settings, newsletter: NewsletterSettings) -> bool:
    """Clicks tied to each reader: analytics.per_reader, and only with clicks counted at all."""
    return counting(settings, newsletter)[0] and (settings.analytics.per_reader or newsletter.analytics.per_reader)


@dataclass(frozen=True)
class ReaderLinks:
    """One issue's counted links (articles and the canary; never the pixel) as each reader's copy extends them."""

    links: tuple[str, ...]
    opted_out: frozenset[int]
    sign: Callable[[int], str]  # render.links.reader_parts for the issue

    def part(self, subscriber_id: int) -> str:
        """The reader's part, or nothing: a reader who switched it off gets the aggregate links."""
        return "" if subscriber_id in self.opted_out else self.sign(subscriber_id)


def reader_links(rt: Runtime, session: Session, issue: Issue) -> ReaderLinks | None:
    """For a send: the issue's links that take each reader's part, if the newsletter counts per reader now
    (decided when it is sent, so switching per_reader off stops it for issues not yet out)."""
    if not per_reader(rt.settings, rt.settings.newsletter(issue.newsletter)):
        return None
    numbers = session.scalars(select(ClickLink.number).where(ClickLink.issue_id == issue.id,
                                                             ClickLink.kind.in_(("link", "canary")))).all()
    if not numbers:
        return None
    key, own = click_key(secret_key(rt)), f"{rt.settings.site.base_url.rstrip('/')}/r/"
    return ReaderLinks(tuple(own + link_token(key, issue.id, n) for n in numbers), all_opted_out(session),
                       reader_parts(key, issue.id))


def count_links(rt: Runtime, session: Session, issue: Issue, draft: IssueDraft) -> int:
    """Store the issue's link targets and rewrite its bodies; returns how many article links are counted."""
    clicks, opens = counting(rt.settings, rt.settings.newsletter(issue.newsletter))
    if not (clicks or opens):
        return 0
    key = click_key(secret_key(rt))
    base = rt.settings.site.base_url.rstrip("/")
    own = f"{base}/r/"
    rows: dict[str, ClickLink] = {}
    for section in draft.sections if clicks else ():
        for item in section.items:
            for url in (item.link, *item.also_in_links):
                # Only web links, and never one of ours (a feed pointing at /r/ would count twice, or loop).
                if url and url.startswith(("http://", "https://")) and not url.startswith(own) and url not in rows:
                    rows[url] = ClickLink(issue_id=issue.id, number=len(rows) + 1, kind="link", url=url,
                                          article_id=item.id, section=section.title, title=item.title[:500])
    extra = []
    if clicks:  # the canary: a hidden link to the archive that only a machine follows
        extra.append(ClickLink(issue_id=issue.id, number=len(rows) + 1, kind="canary",
                               url=f"{base}/issues/{issue.newsletter}", section="", title=""))
    if opens:
        extra.append(ClickLink(issue_id=issue.id, number=len(rows) + len(extra) + 1, kind="open", url="",
                               section="", title=""))
    session.add_all([*rows.values(), *extra])
    counted = {url: own + link_token(key, issue.id, row.number) for url, row in rows.items()}
    beacons = {row.kind: own + link_token(key, issue.id, row.number) for row in extra}
    for body in (issue, *session.scalars(select(IssueVariant).where(IssueVariant.issue_id == issue.id))):
        html, text = rewrite_links(body.html, body.text, counted)
        body.html, body.text = add_beacons(html, beacons.get("canary"), beacons.get("open")), text
    session.flush()
    return len(rows)


__all__ = ["ReaderLinks", "count_links", "counting", "per_reader", "reader_links"]
