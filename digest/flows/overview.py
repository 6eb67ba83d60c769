"""What /status shows and what a dry run counts: read-only views over the schedule and the stored issues."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from digest import store
from digest.settings import make_trigger
from digest.deliver import outbox
from digest.flows.runtime import Runtime
from subscribers import confirmed_count


def recipient_count(rt: Runtime, slug: str) -> int:
    with rt.sessions() as session:
        return confirmed_count(session, slug)


def status(settings, sessions, clock, *, role: str, scheduler=None, last_runs: dict | None = None) -> dict:
    """What /status shows: the role, and per newsletter its next fire and its last issue with counts."""
    now = clock()
    newsletters = []
    with sessions() as session:
        for newsletter in settings.newsletters:
            job = scheduler.get_job(f"send-{newsletter.slug}") if scheduler else None
            trigger = make_trigger(newsletter.schedule, ZoneInfo(newsletter.timezone))
            next_fire = job.next_run_time if job else trigger.get_next_fire_time(None, now)
            issue = store.latest_issue(session, newsletter.slug)
            last = None
            if issue is not None:
                last = {"id": issue.id, "slot": issue.slot, "status": issue.status.value,
                        "subject": issue.subject, "counts": outbox.counts(session, [issue.id])[issue.id]}
            newsletters.append({"slug": newsletter.slug, "schedule": newsletter.schedule,
                                "timezone": newsletter.timezone,
                                "next_fire": next_fire.isoformat() if next_fire else None,
                                "last_issue": last, "last_run": (last_runs or {}).get(newsletter.slug)})
    return {"role": role, "now": now.isoformat(), "newsletters": newsletters}


__all__ = ["recipient_count", "status"]
