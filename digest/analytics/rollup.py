"""Raw click rows older than analytics.retention_days become daily counts per link (issue 26).

A raw row says when a link was followed and whether a person or a machine
did it; after the retention window only the day's totals per link are
kept, which is all the figures need. Small batches, each its own short
transaction, like the retention pruner, so a send never waits on it.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from digest.analytics.classify import PERSON
from digest.models_clicks import Click, ClickDay

log = logging.getLogger(__name__)
BATCH = 5000


def roll_up(sessions: sessionmaker[Session], days: int, now: datetime, *, stop: threading.Event | None = None) -> int:
    """Roll clicks older than `days` (0: keep every row) into click_days; returns how many rows went."""
    if days <= 0:
        return 0
    before, total = now - timedelta(days=days), 0
    while stop is None or not stop.is_set():
        with sessions() as session, session.begin():
            rows = session.execute(select(Click.id, Click.issue_id, Click.number, Click.at, Click.verdict)
                                   .where(Click.at < before).order_by(Click.id).limit(BATCH)).all()
            if not rows:
                break
            counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
            for _id, issue_id, number, at, verdict in rows:
                counts[(at.date(), issue_id, number)][verdict != PERSON] += 1
            kept = {(d.day, d.issue_id, d.number): d for d in session.scalars(select(ClickDay).where(
                ClickDay.issue_id.in_({k[1] for k in counts}), ClickDay.day.in_({k[0] for k in counts})))}
            for (day, issue_id, number), (people, machines) in counts.items():
                row = kept.get((day, issue_id, number))
                if row is None:
                    row = ClickDay(day=day, issue_id=issue_id, number=number, people=0, machines=0)
                    session.add(row)
                row.people += people
                row.machines += machines
            clicks = Click.__table__
            session.execute(delete(clicks).where(clicks.c.id.in_([r[0] for r in rows])))
        total += len(rows)
        if len(rows) < BATCH:
            break
    if total:
        log.info("analytics: %d click rows older than %d days rolled up into daily counts", total, days)
    return total


__all__ = ["roll_up"]
