"""What the SMTP listener reads of a returned message before its database transaction.

Reading and classifying a report is pure work; done on the listener's own
thread as the message arrives, the writer's transaction holds only the
writes (flows.feedback takes the result, or reads the message itself when
there is none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from digest import returnpath
from digest.inbound.classify import judge
from digest.inbound.reports import Report, read_report
from digest.settings import Settings


@dataclass(frozen=True)
class Ahead:
    """What a message says, read before its transaction (pure work: no database)."""

    report: Report
    verdicts: dict  # RecipientStatus -> Verdict, for each status line of the report


def read_ahead(raw: bytes) -> Ahead:
    report = read_report(raw)
    return Ahead(report, {status: judge(status, report.text)
                          for status in report.recipients[:50]})


def reader_ahead(settings: Settings) -> Callable[[str, list[str], bytes], Ahead | None]:
    """The listener's read-ahead: only mail to a bounce address is a report (mail to the unsubscribe mailbox is
    read by its own flow, so reading it here would be done twice)."""
    bounces = settings.bounces

    def ahead(_mail_from: str, recipients: list[str], raw: bytes) -> Ahead | None:
        addresses = (r.strip().strip("<>").lower() for r in recipients)
        if bounces.domain and any(returnpath.is_bounce_address(bounces.local_part, bounces.domain, a)
                                  for a in addresses):
            return read_ahead(raw)
        return None
    return ahead
