"""The next issue: a preview as it would go out now (desktop and 375 px, in sandboxed frames), a test copy
to any address, and "send now" (admins).

All three use the articles gathered so far (the daemon gathers every
schedule.gather_interval_minutes): a page never waits on the sources.
"""

from __future__ import annotations

from starlette.responses import Response

from digest import pipeline
from digest.errors import DigestError
from digest.web.admin.gate import Ctx, Gate, back, framed
from digest.web.admin.issues import Sender
from subscribers import SubscriberError


def register(gate: Gate, runtime: pipeline.Runtime, sender: Sender) -> None:
    known = {n.slug: n for n in gate.settings.newsletters}

    def missing(ctx: Ctx) -> Response:
        return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such newsletter.")

    def page(ctx: Ctx, error: str = "", status: int = 200, address: str = "") -> Response:
        newsletter = known.get(ctx.param("slug"))
        if newsletter is None:
            return missing(ctx)
        draft = pipeline.draft_issue(runtime, newsletter).issue
        readers = pipeline.recipient_count(runtime, newsletter.slug)
        return gate.page(ctx, "next.html", status, title=f"Next issue of {newsletter.title}", newsletter=newsletter,
                         draft=draft, readers=readers, error=error, address=address)

    def preview(ctx: Ctx) -> Response:
        if ctx.param("slug") not in known:
            return framed("<p>There is no such newsletter.</p>")
        _draft, rendered = pipeline.preview(runtime, ctx.param("slug"), fetch=False)
        return framed(rendered.html)

    def test_send(ctx: Ctx) -> Response:
        slug, address = ctx.param("slug"), str(ctx.form.get("address", "")).strip()
        if slug not in known:
            return missing(ctx)
        try:
            gate.act(ctx, "issue.test_send", f"newsletter:{slug}",
                     lambda _session: pipeline.test_send(runtime, slug, address, fetch=False), detail=address[:320])
        except (SubscriberError, DigestError) as exc:
            return page(ctx, f"The test copy was not sent: {exc}", 400, address=address)
        return back(f"/admin/newsletters/{slug}/next", "test-sent")

    def send_now(ctx: Ctx) -> Response:
        slug = ctx.param("slug")
        if slug not in known:
            return missing(ctx)
        outcome = gate.act(ctx, "issue.send_now", f"newsletter:{slug}",
                           lambda _session: pipeline.send_newsletter(runtime, slug, fetch=False, deliver=False),
                           detail=lambda o: f"issue {o.new_issue_id}" if o.new_issue_id else "nothing new")
        if outcome.new_issue_id is None:
            return back(f"/admin/newsletters/{slug}/next", "nothing-new")
        sender.start(outcome.new_issue_id)
        return back(f"/admin/issues/{outcome.new_issue_id}", "sent")

    gate.route("/admin/newsletters/{slug}/next", page)
    gate.route("/admin/newsletters/{slug}/preview.html", preview)
    gate.route("/admin/newsletters/{slug}/test", test_send, methods=("POST",))
    gate.route("/admin/newsletters/{slug}/send", send_now, methods=("POST",), admin=True)
