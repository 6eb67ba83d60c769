"""Fills a digest database the size of a busy newsroom's, for bench/console.py.

What goes in (the defaults; every figure scales with --subscribers/--issues):
  - 100,000 subscribers; every one has a "daily" subscription (85 % confirmed,
    7 % pending, 8 % unsubscribed, dates spread over 400 days), every third a
    "weekly" one; two consent events per subscription;
  - 2 % of the addresses in `suppressions` (a tenth of those lifted again);
  - 1,000 issues (90 % daily, 10 % weekly), each carrying 8 articles, the
    same rendered HTML (one real rendering of 8 articles, about the size a
    reader gets); the newest daily issue is still sending;
  - deliveries concentrated where a real outbox is: the last 20 daily issues
    and the last 5 weekly ones go to every confirmed reader (~85,000 and
    ~28,000 rows each), older issues to a window of 1,000 readers each (about
    2.8 million rows in all); 0.5 % failed with a server reply, 0.2 % skipped;
    the newest issue has 30 % still queued, some of them retrying;
  - feedback rows on the big issues (0.2 % hard, 0.3 % soft bounces, 0.05 %
    complaints), a review draft per daily issue plus one waiting for review,
    20,000 audit lines, and 20 articles not yet sent (the next issue).

Rows go in with executemany and INSERT ... SELECT, never one ORM object a row.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from digest.flows import drafting
from digest.flows.runtime import Runtime
from digest.deliver import outbox
from digest.models import (Article, AuditEntry, Delivery, Feedback, Issue, IssueArticle, ReviewDraft, SourceState)
from subscribers.models import ConsentEvent, Subscriber, Subscription, Suppression

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
DOMAINS = ("example.com", "mail.example.org", "example.net", "post.example.co.uk", "example.de")
SOURCES = ("https://wire.example.org/feed.xml", "https://city.example.org/rss", "https://sport.example.org/atom")
WEEKLY_SOURCE = "https://review.example.org/weekly.xml"
PER_ISSUE, BIG_DAILY, BIG_WEEKLY, SMALL = 8, 20, 5, 1000
CHUNK = 20_000


def address(i: int) -> str:
    return f"reader{i:06d}.{'abcdefghij'[i % 10]}@{DOMAINS[i % len(DOMAINS)]}"


def _chunks(rows, size=CHUNK):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(connection, table, rows) -> None:
    for batch in _chunks(rows):
        connection.execute(sa.insert(table.__table__), batch)


def fill(rt: Runtime, subscribers: int, issues: int, say=print) -> dict:
    engine = rt.sessions.kw["bind"]
    with engine.begin() as connection:
        _audience(connection, subscribers)
        say(f"  {subscribers:,} subscribers, their subscriptions, consent events and suppressions")
        _articles(connection, issues)
    daily = rt.settings.newsletter("daily")
    sample = drafting.draft_issue(rt, daily)  # one real rendering: the HTML every stored issue carries
    say(f"  a real issue rendered: {len(sample.rendered.html):,} bytes of HTML")
    with engine.begin() as connection:
        ids = _issues(connection, issues, sample)
        say(f"  {issues:,} issues with their articles")
        _deliveries(connection, ids, subscribers)
        with Session(bind=connection) as session:  # finished as a send finishes them (counts frozen then)
            for issue_id in sorted(ids["daily"][:-1] + ids["weekly"]):
                outbox.finish_if_done(session, issue_id, NOW)
            session.flush()
        total = connection.scalar(sa.select(sa.func.count()).select_from(Delivery.__table__))
        say(f"  {total:,} deliveries")
        _feedback(connection, ids)
        _drafts_and_audit(connection, ids, sample)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("ANALYZE"))
    return {"daily": ids["daily"], "weekly": ids["weekly"], "deliveries": total}


def _audience(connection, n: int) -> None:
    _insert(connection, Subscriber, ({"id": i, "email": address(i), "created_at": NOW - timedelta(days=400 - i % 400)}
                                     for i in range(1, n + 1)))

    def subscription(i: int, slug: str) -> dict:
        joined = NOW - timedelta(days=400 - i % 400, minutes=i % 1440)
        state = "unsubscribed" if i % 100 < 8 else "pending" if i % 100 < 15 else "confirmed"
        return {"subscriber_id": i, "newsletter": slug, "status": state, "created_at": joined,
                "confirmed_at": joined + timedelta(minutes=5) if state != "pending" else None,
                "unsubscribed_at": joined + timedelta(days=(i % 90) + 1) if state == "unsubscribed" else None}

    _insert(connection, Subscription, (subscription(i, slug) for i in range(1, n + 1)
                                       for slug in (("daily", "weekly") if i % 3 == 0 else ("daily",))))
    _insert(connection, ConsentEvent, ({"subscriber_id": i, "newsletter": "daily", "kind": kind,
                                        "at": NOW - timedelta(days=400 - i % 400), "ip": "192.0.2.1",
                                        "user_agent": "Mozilla/5.0", "detail": ""}
                                       for i in range(1, n + 1) for kind in ("requested", "confirmed")))
    reasons = ("hard_bounce", "soft_bounces", "complaint", "operator")
    _insert(connection, Suppression, ({"email": address(i), "active": i % 500 != 0, "reason": reasons[i % 4],
                                       "detail": "550 5.1.1 user unknown", "created_at": NOW - timedelta(days=i % 300),
                                       "lifted_at": None, "lifted_reason": ""} for i in range(50, n + 1, 50)))


def _articles(connection, issues: int) -> None:
    body = ("The council approved the harbour plan on Tuesday after a long debate. Residents asked for more "
            "parking near the ferry. The mayor said work starts in spring and lasts two years. ") * 4
    total = issues * PER_ISSUE + 20

    def source(i: int) -> str:  # an issue's articles come from its newsletter's sources
        return WEEKLY_SOURCE if is_weekly((i - 1) // PER_ISSUE + 1) and i <= issues * PER_ISSUE else SOURCES[i % 3]

    _insert(connection, Article, ({
        "id": i, "uid": f"bench-{i}", "source_url": source(i), "source_name": ("Wire", "City", "Sport")[i % 3],
        "link": f"https://news.example.org/story/{i}", "title": f"Story number {i}: the harbour plan moves on",
        "text": body, "author": "", "categories": "Local\nPolitics", "undated": False, "backlog": False,
        "published_at": NOW - timedelta(hours=total - i), "fetched_at": NOW - timedelta(hours=total - i),
        "image_url": "", "image_alt": "", "image_width": 0} for i in range(1, total + 1)))
    _insert(connection, SourceState, ({"url": url, "failures": i, "last_error": "timed out" if i else None,
                                       "last_fetched_at": NOW, "last_success_at": NOW - timedelta(hours=i)}
                                      for i, url in enumerate((*SOURCES, WEEKLY_SOURCE))))


def is_weekly(n: int) -> bool:
    return n % 10 == 5


def _issues(connection, issues: int, sample) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {"daily": [], "weekly": []}
    rows, links = [], []
    for n in range(1, issues + 1):
        slug = "weekly" if is_weekly(n) else "daily"
        at = NOW - timedelta(hours=(issues - n) * 20)
        rows.append({"id": n, "newsletter": slug, "slot": f"{at:%Y-%m-%dT%H:%M:%SZ}", "created_at": at,
                     "status": "sending", "subject": f"{sample.rendered.subject} ({n})",
                     "html": sample.rendered.html, "text": sample.rendered.text,
                     "personal_mark": sample.rendered.mark, "finished_at": None,
                     "paused_reason": None})
        ids[slug].append(n)
        links += [{"issue_id": n, "article_id": (n - 1) * PER_ISSUE + k + 1, "newsletter": slug, "section": "News",
                   "position": k, "included": True} for k in range(PER_ISSUE)]
    _insert(connection, Issue, rows)
    _insert(connection, IssueArticle, links)
    return ids


def _deliveries(connection, ids: dict[str, list[int]], subscribers: int) -> None:
    sub, person = Subscription.__table__, Subscriber.__table__
    table = Delivery.__table__
    columns = ["issue_id", "subscriber_id", "email", "status", "attempts", "last_error", "sent_at"]
    for slug, big in (("daily", BIG_DAILY), ("weekly", BIG_WEEKLY)):
        for position, issue_id in enumerate(ids[slug]):
            at = NOW - timedelta(hours=(ids["daily"][-1] - issue_id) * 20)
            window = sub.c.status == "confirmed"
            if position < len(ids[slug]) - big:  # an old issue: a window of readers, not the whole audience
                start = (issue_id * 997) % max(subscribers - SMALL, 1)
                window = window & sub.c.subscriber_id.between(start, start + SMALL * 1.2)
            newest = issue_id == ids["daily"][-1]
            pick = person.c.id % 200
            status = sa.case((pick == 7, "failed"), (pick.in_((3, 111)), "skipped"),
                             *([(person.c.id % 10 < 3, "queued")] if newest else []), else_="sent")
            retrying = (person.c.id % 50 == 1) if newest else sa.false()
            query = sa.select(
                sa.literal(issue_id), person.c.id, person.c.email, status,
                sa.case((pick == 7, 3), (status == "sent", 1), (retrying, 1), else_=0),
                sa.case((pick == 7, sa.literal("550 5.1.1 <") + person.c.email + "> Recipient address rejected"),
                        else_=None),
                sa.case((status == "sent", sa.literal(at, Delivery.sent_at.type)), else_=None),
            ).select_from(sub.join(person, person.c.id == sub.c.subscriber_id)).where(sub.c.newsletter == slug, window)
            connection.execute(sa.insert(table).from_select(columns, query))


def _feedback(connection, ids: dict[str, list[int]]) -> None:
    table, delivery = Feedback.__table__, Delivery.__table__
    big = ids["daily"][-BIG_DAILY:] + ids["weekly"][-BIG_WEEKLY:]
    for kind, modulo, status in (("hard", 500, "5.1.1"), ("soft", 333, "4.2.2"), ("complaint", 2000, "abuse")):
        query = sa.select(delivery.c.id, delivery.c.issue_id, delivery.c.email, sa.literal(kind), sa.literal(status),
                          sa.literal("mx.example.net"), sa.literal("reported"), sa.literal("recorded"),
                          sa.literal(NOW, Feedback.at.type)) \
            .where(delivery.c.issue_id.in_(big), delivery.c.status == "sent", delivery.c.subscriber_id % modulo == 1)
        connection.execute(sa.insert(table).from_select(
            ["delivery_id", "issue_id", "email", "kind", "status", "reporting_mta", "diagnostic", "action", "at"],
            query))


def _drafts_and_audit(connection, ids: dict[str, list[int]], sample) -> None:
    items = json.dumps([{"id": item.id, "title": item.title, "link": item.link, "source_name": item.source_name,
                         "published": item.published.isoformat() if item.published else None,
                         "categories": list(item.categories), "text": item.text, "summary": list(item.summary),
                         "also_in": [], "image_url": "", "image_alt": "", "image_width": 0, "section": "News",
                         "removed": False, "pinned": False} for item in sample.issue.items])
    rows = [{"newsletter": "daily", "slot": f"draft-{issue_id}", "slot_at": NOW - timedelta(days=1), "state": "sent",
             "created_at": NOW - timedelta(days=1), "version": 3, "items": items, "left_out": "[]", "note": "",
             "approved_by": "ed", "approved_at": NOW - timedelta(days=1), "subject": sample.rendered.subject,
             "html": sample.rendered.html, "text": sample.rendered.text, "mark": sample.rendered.mark,
             "web_mark": None, "issue_id": issue_id} for issue_id in ids["daily"]]
    rows.append({**rows[-1], "slot": "next", "slot_at": NOW + timedelta(hours=2), "state": "review", "version": 1,
                 "approved_by": None, "approved_at": None, "subject": None, "html": None, "text": None, "mark": None,
                 "issue_id": None})
    _insert(connection, ReviewDraft, rows)
    actions = ("draft.save", "draft.approve", "issue.requeue", "reader.unsubscribe", "readers.export")
    _insert(connection, AuditEntry, ({"at": NOW - timedelta(minutes=20_000 - i), "operator": ("ann", "ed")[i % 2],
                                      "action": actions[i % 5], "target": f"draft:{i}", "detail": "x" * (i % 80),
                                      "ip": "192.0.2.7"} for i in range(20_000)))
