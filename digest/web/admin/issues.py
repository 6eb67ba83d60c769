"""Issues: the list, one issue's counts and failures (with the server's reply), retry / pause / resume,
its web version, and the message as it was sent.

Retry and resume start the delivery in a background thread of this process
(`Sender`); the outbox's leases make that safe next to a daemon or workers
sending the same issue, and the daemon's resume round would pick it up anyway.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from html import escape

from sqlalchemy import select
from starlette.responses import Response

from digest.analytics import figures
from digest.flows import sending
from digest.flows.feedback_counts import issue_reasons
from digest.flows.runtime import Runtime, secret_key
from digest.deliver import outbox
from digest.models import Issue, IssueStatus
from digest.render.links import without_beacons
from digest.web.admin import queries
from digest.web.admin.gate import Ctx, Gate, back, framed
from digest.web.archive import web_version

log = logging.getLogger(__name__)
PAGE = 50
PLACEHOLDER = "https://unsubscribe.invalid/each-reader-s-own-link"


class Sender:
    """Deliveries started from the console, one thread per issue at a time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.running: set[int] = set()
        self.lock = threading.Lock()

    def start(self, issue_id: int) -> threading.Thread | None:
        with self.lock:
            if issue_id in self.running:
                return None
            self.running.add(issue_id)
        thread = threading.Thread(target=self._send, args=(issue_id,), name=f"console-send-{issue_id}", daemon=True)
        thread.start()
        return thread

    def _send(self, issue_id: int) -> None:
        rt = self.runtime
        try:
            with rt.sessions() as session:
                issue = session.get(Issue, issue_id)
            known = {n.slug: n for n in rt.settings.newsletters}
            if issue is not None and issue.newsletter in known:
                sending.send_existing_issue(rt, known[issue.newsletter], issue, secret_key(rt))
        except Exception:  # logged; the issue stays queued for the daemon, a worker or `digest send`
            log.exception("sending issue %d from the console failed", issue_id)
        finally:
            with self.lock:
                self.running.discard(issue_id)


def register(gate: Gate, sender: Sender) -> None:
    def listing(ctx: Ctx) -> Response:
        before = ctx.request.query_params.get("before", "")
        slug = ctx.request.query_params.get("newsletter", "")
        with gate.sessions() as session:
            rows = queries.issues(session, slug or None, limit=PAGE,
                                  before=int(before) if before.isdigit() and len(before) < 12 else None)
        return gate.page(ctx, "issues.html", title="Issues", issues=rows, show_newsletter=True,
                         extra_columns=["bounced", "sender-side", "unclassified", "complaints"],
                         older=rows[-1].id if len(rows) == PAGE else None, slug=slug)

    def load(ctx: Ctx, session) -> Issue | None:
        wanted = ctx.param("id")
        return session.get(Issue, int(wanted)) if wanted.isdigit() and len(wanted) < 12 else None

    def detail(ctx: Ctx) -> Response:
        with gate.sessions() as session:
            issue = load(ctx, session)
            if issue is None:
                return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such issue.")
            counts = outbox.counts(session, [issue.id])[issue.id]
            failures, failed_total = outbox.failures(session, issue.id, limit=200)
            draft = queries.draft_of_issue(session, issue.id)
            reasons = issue_reasons(session, issue.id)
            clicks = figures.issue_figures(session, [issue.id]).get(issue.id)
            top = {days: figures.top_items(session, issue.newsletter, gate.now() - timedelta(days=days))
                   for days in (7, 30)} if clicks else {}
        web = f"/issues/{issue.newsletter}/{issue.created_at:%Y-%m-%d}?issue={issue.id}"
        return gate.page(ctx, "issue.html", title=issue.subject, issue=issue, counts=counts, failures=failures,
                         failed_total=failed_total, web_url=web, draft=draft, sending=issue.id in sender.running,
                         reasons=reasons, clicks=clicks, top=top, how=figures.HOW)

    def as_sent(ctx: Ctx) -> Response:
        """The HTML part as mailed, each reader's own unsubscribe link shown as a placeholder."""
        with gate.sessions() as session:
            issue = load(ctx, session)
            if issue is None:
                return framed("<p>There is no such issue.</p>")
            return framed(without_beacons(issue.html).replace(issue.personal_mark, PLACEHOLDER))

    def as_web(ctx: Ctx) -> Response:
        with gate.sessions() as session:
            issue = load(ctx, session)
            if issue is None:
                return framed("<p>There is no such issue.</p>")
            return framed(web_version(issue.html, issue.personal_mark, gate.settings.site.base_url))

    def as_text(ctx: Ctx) -> Response:
        with gate.sessions() as session:
            issue = load(ctx, session)
            if issue is None:
                return framed("<p>There is no such issue.</p>")
            body = issue.text.replace(issue.personal_mark, PLACEHOLDER)
            return framed(f"<!DOCTYPE html><html lang=en><title>Text part</title><pre>{escape(body)}</pre></html>")

    def change(action: str):
        def handler(ctx: Ctx) -> Response:
            with gate.sessions() as session:
                issue = load(ctx, session)
            if issue is None:
                return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such issue.")

            def work(session):
                if action == "requeue":
                    return outbox.requeue_failed(session, issue.id)
                if action == "pause":
                    if session.scalar(select(Issue.status).where(Issue.id == issue.id)) is IssueStatus.sent:
                        return 0
                    outbox.pause(session, issue.id, f"paused from the console by {ctx.who.name}")
                    return 1
                outbox.resume(session, issue.id)
                return 1

            changed = gate.act(ctx, f"issue.{action}", f"issue:{issue.id}", work, detail=lambda n: f"{n} changed")
            if action in ("requeue", "resume") and changed:
                sender.start(issue.id)
            return back(f"/admin/issues/{issue.id}", {"requeue": "requeued", "pause": "paused",
                                                       "resume": "resumed"}[action])
        return handler

    gate.route("/admin/issues", listing)
    gate.route("/admin/issues/{id}", detail)
    gate.route("/admin/issues/{id}/sent.html", as_sent)
    gate.route("/admin/issues/{id}/web.html", as_web)
    gate.route("/admin/issues/{id}/sent.txt.html", as_text)
    for action in ("requeue", "pause", "resume"):
        gate.route(f"/admin/issues/{{id}}/{action}", change(action), methods=("POST",), admin=True)
