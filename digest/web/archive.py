"""The web version of sent issues: queries for /issues/<newsletter>[/<date>].

An issue's date is its creation time in the newsletter's time zone, the same
day the email's "View in your browser" link names (render.issue_path). The
stored HTML is the email as it went out, with the issue's mark where each
reader's personal link was; on the web that becomes the signup page, so no
personal token is ever shown, and the email-only parts (preheader, "view in
browser" bar, unsubscribe footer) are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.models import Issue

_EMAIL_ONLY = re.compile(r"<!--email-only-->.*?<!--/email-only-->", re.DOTALL)


@dataclass(frozen=True)
class ArchivedIssue:
    id: int
    newsletter: str
    date: date  # in the newsletter's time zone
    created_at: datetime
    subject: str


def _entry(issue: Issue, zone: ZoneInfo) -> ArchivedIssue:
    return ArchivedIssue(issue.id, issue.newsletter, issue.created_at.astimezone(zone).date(), issue.created_at,
                         issue.subject)


def list_issues(session: Session, newsletter: str, tz: str, *, on: date | None = None,
                limit: int = 500) -> list[ArchivedIssue]:
    """The newsletter's issues, newest first; with `on`, only those of that day (newsletter's time zone)."""
    zone = ZoneInfo(tz)
    query = select(Issue).where(Issue.newsletter == newsletter)
    if on is not None:
        start = datetime.combine(on, time(0), zone).astimezone(timezone.utc)
        end = datetime.combine(on + timedelta(days=1), time(0), zone).astimezone(timezone.utc)
        query = query.where(Issue.created_at >= start, Issue.created_at < end)
    query = query.order_by(Issue.created_at.desc(), Issue.id.desc()).limit(limit)
    return [_entry(issue, zone) for issue in session.scalars(query)]


def find_issue(session: Session, newsletter: str, tz: str, wanted: str, on: date) -> ArchivedIssue | None:
    """One issue of `newsletter` by its id (the ?issue= of its permanent link) on or next to day `on`.

    A day either side: an issue composed just before midnight is stored just after it.
    """
    issue = session.get(Issue, int(wanted)) if wanted.isdigit() and len(wanted) < 12 else None
    if issue is None or issue.newsletter != newsletter:
        return None
    entry = _entry(issue, ZoneInfo(tz))
    return entry if abs((entry.date - on).days) <= 1 else None


def issue_html(session: Session, issue_id: int, signup_url: str) -> str | None:
    """The issue as a web page: personal link replaced by the signup page, email-only parts removed."""
    issue = session.get(Issue, issue_id)
    if issue is None:
        return None
    return web_version(issue.html, issue.personal_mark, signup_url)


def web_version(html: str, mark: str, signup_url: str) -> str:
    return _EMAIL_ONLY.sub("", html).replace(mark, signup_url)


def parse_date(value: str) -> date | None:
    """A day an issue could have (years 1 and 9999 have no whole day in every time zone)."""
    try:
        day = date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    except ValueError:
        return None
    return day if day is not None and date.min < day < date.max else None
