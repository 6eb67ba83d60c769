"""Resuming: issues left half-sent are finished by whoever leads next; paused ones wait for an operator."""

from __future__ import annotations

import logging
import threading

from digest import store
from digest.deliver import outbox
from digest.deliver.engine import DeliveryReport
from digest.flows.runtime import Runtime, secret_key
from digest.flows.sending import send_existing_issue

log = logging.getLogger(__name__)


def resume_unfinished(rt: Runtime, stop: threading.Event | None = None) -> list[DeliveryReport]:
    """Finish every issue left `sending` (a SIGTERM, an SMTP outage, a leader that died mid-send).

    Paused issues are left for `digest send`: they stopped on purpose, after
    failures an operator should look at first.
    """
    with rt.sessions() as session:
        issues = [i for i in store.unfinished_issues(session) if i.status.value == "sending"]
        queued = {i.id: sum(n for state, n in outbox.counts(session, [i.id])[i.id].items()
                            if state in ("queued", "retrying")) for i in issues}
    known = {n.slug: n for n in rt.settings.newsletters}
    reports = []
    for issue in issues:
        if issue.newsletter not in known or (stop is not None and stop.is_set()):
            continue
        log.warning("%s: resuming interrupted issue %d (%d still to send)", issue.newsletter, issue.id,
                    queued[issue.id])
        reports.append(send_existing_issue(rt, known[issue.newsletter], issue, secret_key(rt), stop=stop))
    return reports


__all__ = ["resume_unfinished"]
