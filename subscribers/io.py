"""CSV import and export of subscribers.

Import never mails anyone by itself: it returns the confirmation tokens for
the caller to send, unless the operator states that consent was already
obtained (recorded as such on every row). A bad row is reported with its line
number and the good rows still go in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from subscribers.db import utcnow
from subscribers.errors import InvalidAddress, Suppressed
from subscribers.models import Subscriber, Subscription, SubscriptionStatus, Suppression
from subscribers.optin import DEFAULT_TTL, Origin, add_subscriber

EXPORT_COLUMNS = ("email", "newsletter", "status", "created_at", "confirmed_at", "unsubscribed_at")


@dataclass
class ImportReport:
    added: int = 0
    unchanged: int = 0
    unsubscribed: int = 0  # left alone: they unsubscribed earlier
    suppressed: int = 0  # left alone: they bounced or complained
    errors: list[tuple[int, str]] = field(default_factory=list)
    confirmations: list[tuple[str, str]] = field(default_factory=list)  # (email, token) to mail


def import_csv(session: Session, text: str, newsletter: str, *, source: str, consent_obtained: bool,
               now: datetime | None = None, ttl: timedelta = DEFAULT_TTL) -> ImportReport:
    """Rows with an `email` column (or the first column when there is no header)."""
    now = now or utcnow()
    report = ImportReport()
    origin = Origin(source=f"import:{source}")
    rows = list(csv.reader(io.StringIO(text)))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    column, first_line = (header.index("email"), 2) if "email" in header else (0, 1)
    seen: set[str] = set()
    for line, row in enumerate(rows[first_line - 1:], start=first_line):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= column:
            report.errors.append((line, "no email column"))
            continue
        try:
            subscription, token = add_subscriber(session, row[column], newsletter, confirmed=consent_obtained,
                                                 origin=origin, now=now, ttl=ttl, kind="imported")
        except InvalidAddress:
            report.errors.append((line, f"not a valid email address: {row[column].strip()!r}"))
            continue
        except Suppressed:
            report.suppressed += 1
            continue
        email = subscription.subscriber.email
        if subscription.status is SubscriptionStatus.unsubscribed:
            report.unsubscribed += 1
            seen.add(email)
            continue
        if email in seen or (token is None and subscription.confirmed_at and subscription.confirmed_at < now):
            report.unchanged += 1
        else:
            report.added += 1
        seen.add(email)
        if token:
            report.confirmations.append((email, token))
    return report


def export_csv(rows: Iterable[tuple[Subscriber, Subscription]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for subscriber, subscription in rows:
        writer.writerow((_cell(subscriber.email), subscription.newsletter, subscription.status.value,
                         *(_iso(v) for v in (subscription.created_at, subscription.confirmed_at,
                                             subscription.unsubscribed_at))))
    return out.getvalue()


def export_suppressions_csv(rows: Iterable[Suppression]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("email", "active", "reason", "since", "detail", "lifted_at", "lifted_reason"))
    for row in rows:
        writer.writerow((_cell(row.email), "yes" if row.active else "no", row.reason, _iso(row.created_at),
                         _cell(row.detail), _iso(row.lifted_at), _cell(row.lifted_reason)))
    return out.getvalue()


def _cell(text: str) -> str:
    """A value a spreadsheet shows as text: "=1+2@x.org" is a valid address and would run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _iso(value) -> str:
    return value.isoformat() if value else ""


__all__ = ["EXPORT_COLUMNS", "ImportReport", "export_csv", "import_csv"]
