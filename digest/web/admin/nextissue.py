"""The next issue: a preview as it would go out now (desktop and 375 px, in sandboxed frames), a test copy
to an operator's own address (or one the config allows), and "send now" (admins).

All three use the articles gathered so far (the daemon gathers every
schedule.gather_interval_minutes): a page never waits on the sources.
Under review = "required" nothing reaches readers unapproved, from here
either: "send now" is refused, and an admin instead drafts the issue for
review at once; the editors are asked, and the approved draft goes out from
its own page (or with the daemon's next review round).
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from starlette.responses import Response

from digest.flows import drafting, editor_mail, editorial, overview, sending
from digest.flows.runtime import Runtime
from digest.models import Operator, ReviewDraft
from digest.errors import DigestError
from digest.web.admin.confirm import unless_confirmed
from digest.web.admin.gate import Ctx, Gate, back, framed
from digest.web.admin.issues import Sender
from subscribers import SubscriberError
from subscribers.limits import take


def register(gate: Gate, runtime: Runtime, sender: Sender) -> None:
    known = {n.slug: n for n in gate.settings.newsletters}

    def missing(ctx: Ctx) -> Response:
        return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such newsletter.")

    def page(ctx: Ctx, error: str = "", status: int = 200, address: str = "") -> Response:
        newsletter = known.get(ctx.param("slug"))
        if newsletter is None:
            return missing(ctx)
        draft = drafting.draft_issue(runtime, newsletter).issue
        readers = overview.recipient_count(runtime, newsletter.slug)
        return gate.page(ctx, "next.html", status, title=f"Next issue of {newsletter.title}", newsletter=newsletter,
                         draft=draft, readers=readers, error=error, address=address,
                         open_draft=open_draft(newsletter.slug) if newsletter.review == "required" else None)

    def open_draft(slug: str) -> ReviewDraft | None:
        """The draft still in review or approved for this newsletter, if any (its page approves and sends)."""
        with gate.sessions() as session:
            return session.scalar(select(ReviewDraft).where(ReviewDraft.newsletter == slug, ReviewDraft.state.in_(
                ("review", "approved"))).order_by(ReviewDraft.slot_at).limit(1))

    def preview(ctx: Ctx) -> Response:
        if ctx.param("slug") not in known:
            return framed("<p>There is no such newsletter.</p>")
        _draft, rendered = drafting.preview(runtime, ctx.param("slug"), fetch=False)
        return framed(rendered.html)

    def test_send(ctx: Ctx) -> Response:
        slug, address = ctx.param("slug"), str(ctx.form.get("address", "")).strip()
        if slug not in known:
            return missing(ctx)
        refusal = test_copy_refusal(ctx, address[:320])
        if refusal:
            gate.act(ctx, "issue.test_send.refused", f"newsletter:{slug}", lambda _session: None,
                     detail=f"{address[:320]}: {refusal}")
            return page(ctx, f"The test copy was not sent: {refusal}", 403 if "only" in refusal else 429,
                        address=address)
        try:
            gate.act(ctx, "issue.test_send", f"newsletter:{slug}",
                     lambda _session: sending.test_send(runtime, slug, address, fetch=False), detail=address[:320])
        except (SubscriberError, DigestError) as exc:
            return page(ctx, f"The test copy was not sent: {exc}", 400, address=address)
        return back(f"/admin/newsletters/{slug}/next", "test-sent")

    def test_copy_refusal(ctx: Ctx, address: str) -> str:
        """Why a test copy may not go to this address now ("" when it may): a console login must not be a
        way to mail the next issue to anyone, as often as one likes."""
        admin, wanted = gate.settings.admin, address.lower()
        with gate.sessions() as session, session.begin():
            own = {e.lower() for e in session.scalars(select(Operator.email).where(Operator.email != ""))}
            listed = {e.lower() for e in admin.test_copy_addresses}
            if wanted not in own | listed and f"@{wanted.rpartition('@')[2]}" not in listed:
                return "test copies go only to operators' own addresses and admin.test_copy_addresses"
            if not take(session, f"test-copy:{ctx.who.name}", admin.test_copies_per_hour, gate.now()):
                return f"at most {admin.test_copies_per_hour} test copies an hour per operator"
        return ""

    def send_now(ctx: Ctx) -> Response:
        slug = ctx.param("slug")
        if slug not in known:
            return missing(ctx)
        if known[slug].review == "required":
            return page(ctx, "Not sent: review is required for this newsletter, so an issue goes out only from a "
                             "draft an editor approved. Draft it for review, then send the approved draft.", 409)
        asking = unless_confirmed(gate, ctx, overview.recipient_count(runtime, slug),
                                  what=f"The next issue of {known[slug].title}", action=f"/admin/newsletters/{slug}/send",
                                  back_url=f"/admin/newsletters/{slug}/next")
        if asking is not None:
            return asking
        outcome = gate.act(ctx, "issue.send_now", f"newsletter:{slug}",
                           lambda _session: sending.send_newsletter(runtime, slug, fetch=False, deliver=False),
                           detail=lambda o: f"issue {o.new_issue_id}" if o.new_issue_id else "nothing new")
        if outcome.new_issue_id is None:
            return back(f"/admin/newsletters/{slug}/next", "nothing-new")
        sender.start(outcome.new_issue_id)
        return back(f"/admin/issues/{outcome.new_issue_id}", "sent")

    def draft_now(ctx: Ctx) -> Response:
        """Review required: the next issue drafted now, for a slot of its own, and the editors asked."""
        newsletter = known.get(ctx.param("slug"))
        if newsletter is None:
            return missing(ctx)
        if newsletter.review == "off":
            return page(ctx, "This newsletter is not under review: send it now instead.", 409)
        existing = open_draft(newsletter.slug)
        if existing is not None:
            return back(f"/admin/review/{existing.id}")
        now = gate.now()
        slot = f"manual-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        row, made = gate.act(ctx, "draft.prepare", f"newsletter:{newsletter.slug}", lambda _session: editorial.prepare(
            runtime, newsletter, slot, now, fetch=False), detail=lambda r: f"draft {r[0].id}" if r[0] else "nothing new")
        if row is None:
            return back(f"/admin/newsletters/{newsletter.slug}/next", "nothing-new")
        if made:
            editor_mail.ask_editors(runtime, newsletter, row)
        return back(f"/admin/review/{row.id}", "drafted")

    gate.route("/admin/newsletters/{slug}/next", page)
    gate.route("/admin/newsletters/{slug}/preview.html", preview)
    gate.route("/admin/newsletters/{slug}/test", test_send, methods=("POST",))
    gate.route("/admin/newsletters/{slug}/send", send_now, methods=("POST",), admin=True)
    gate.route("/admin/newsletters/{slug}/draft", draft_now, methods=("POST",), admin=True)
