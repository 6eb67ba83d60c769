"""Editorial review in the console: the drafts, and one draft's editor (remove, pin, reorder, edit a title or a
summary, the editor's note, approve). Every change is one POST and one audit line naming the item and what
it became; digest.editorial keeps the state machine.
"""

from __future__ import annotations

import json

from starlette.responses import Response

from digest.analytics import figures
from digest.flows import editorial, overview
from digest.flows.runtime import Runtime
from digest.models import ReviewDraft
from digest.web.admin import queries
from digest.web.admin.confirm import unless_confirmed
from digest.web.admin.gate import Ctx, Gate, back, framed
from digest.web.admin.issues import Sender


def _changes(form: dict, items: list[dict]) -> dict[int, dict]:
    """The one big form's fields per item (keep-ID, pin-ID, title-ID, summary-ID, position-ID)."""
    out = {}
    for entry in items:
        key = entry["id"]
        position = str(form.get(f"position-{key}", ""))
        out[key] = {"keep": f"keep-{key}" in form, "pin": f"pin-{key}" in form,
                    "title": str(form.get(f"title-{key}", entry["title"])),
                    "summary": str(form.get(f"summary-{key}", " ".join(entry["summary"]))),
                    "position": int(position) if position.isdigit() and len(position) < 6 else 10 ** 6}
    return out


def register(gate: Gate, runtime: Runtime, sender: Sender) -> None:
    known = {n.slug: n for n in gate.settings.newsletters}

    def draft_id(ctx: Ctx) -> int | None:
        wanted = ctx.param("id")
        return int(wanted) if wanted.isdigit() and len(wanted) < 12 else None

    def load(ctx: Ctx) -> ReviewDraft | None:
        wanted = draft_id(ctx)
        if wanted is None:
            return None
        with gate.sessions() as session:
            row = session.get(ReviewDraft, wanted)
        return row if row is not None and row.newsletter in known else None

    def listing(ctx: Ctx) -> Response:
        with gate.sessions() as session:
            drafts = queries.drafts(session, limit=50)
        return gate.page(ctx, "review_list.html", title="Review", drafts=drafts, known=known)

    def detail(ctx: Ctx, error: str = "", status: int = 200) -> Response:
        row = load(ctx)
        if row is None:
            return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such draft.")
        items = editorial.items_of(row)
        with gate.sessions() as session:
            history = queries.draft_history(session, row.id)
            chosen = figures.last_choices(session, row.newsletter)  # counted links (issue 26), if any
        return gate.page(ctx, "review.html", status, title=f"Draft of {known[row.newsletter].title}", draft=row,
                         newsletter=known[row.newsletter], items=items, error=error, history=history,
                         kept=sum(1 for i in items if not i["removed"]), chosen=chosen)

    def preview(ctx: Ctx) -> Response:
        row = load(ctx)
        if row is None:
            return framed("<p>There is no such draft.</p>")
        if row.html:  # approved: the frozen bytes themselves
            return framed(row.html.replace(row.mark or "", f"{gate.settings.site.base_url}/unsubscribe?token=preview"))
        rendered = editorial.render(runtime, row, known[row.newsletter])
        return framed(rendered.html.replace(rendered.mark, f"{gate.settings.site.base_url}/unsubscribe?token=preview"))

    def change(ctx: Ctx) -> Response:
        row = load(ctx)
        if row is None:
            return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such draft.")
        form = ctx.form
        action = str(form.get("action", ""))
        item = str(form.get("item", ""))
        try:
            if action == "note":
                note = str(form.get("note", ""))
                gate.act(ctx, "draft.note", f"draft:{row.id}",
                         lambda _s: editorial.edit(runtime, row.id, "note", note=note), detail=note[:2000])
            elif action == "approve":
                version = str(form.get("version", ""))
                comment = " ".join(str(form.get("comment", "")).split())[:500]
                gate.act(ctx, "draft.approve", f"draft:{row.id}", lambda _s: editorial.approve(
                    runtime, row.id, int(version) if version.isdigit() else -1, ctx.who.name),
                    detail=f"version {version}" + (f": {comment}" if comment else ""))
                return back(f"/admin/review/{row.id}", "approved")
            elif action == "save_all":
                version, changes = str(form.get("version", "")), _changes(form, editorial.items_of(row))
                changed = gate.act(ctx, "draft.save_all", f"draft:{row.id}", lambda _s: editorial.edit_all(
                    runtime, row.id, int(version) if version.isdigit() else -1, changes),
                    detail=lambda done: f"version {version}: " + ("changed" if done else "nothing changed"))
                return back(f"/admin/review/{row.id}", "saved" if changed else "unchanged")
            elif action in editorial.EDITS and item.isdigit() and len(item) < 12:
                title, summary = str(form.get("title", "")), str(form.get("summary", ""))
                gate.act(ctx, f"draft.{action}", f"draft:{row.id} item:{item}", lambda _s: editorial.edit(
                    runtime, row.id, action, int(item), title=title, summary=summary),
                    detail=json.dumps({"title": title, "summary": summary}, ensure_ascii=False)[:4000]
                    if action == "save" else "")
            else:
                return detail(ctx, "Unknown change.", 400)
        except editorial.ReviewError as exc:
            return detail(ctx, str(exc), 409)
        return back(f"/admin/review/{row.id}", "saved")

    def send_now(ctx: Ctx) -> Response:
        """An admin sends an approved draft before its slot (or one held): it becomes the slot's issue now."""
        row = load(ctx)
        if row is None or row.state != "approved":
            return detail(ctx, "Only an approved draft can be sent now.", 409)
        asking = unless_confirmed(gate, ctx, overview.recipient_count(runtime, row.newsletter),
                                  what=f"The approved draft of {known[row.newsletter].title}, before its slot,",
                                  action=f"/admin/review/{row.id}/send", back_url=f"/admin/review/{row.id}")
        if asking is not None:
            return asking
        issue, _result = gate.act(ctx, "draft.send_now", f"draft:{row.id}", lambda _s: editorial.make_issue(
            runtime, known[row.newsletter], row.id, required=True), detail=lambda r: r[1])
        if issue is None:
            return detail(ctx, _result, 409)
        sender.start(issue.id)
        return back(f"/admin/issues/{issue.id}", "sent")

    gate.route("/admin/review", listing)
    gate.route("/admin/review/{id}", detail)
    gate.route("/admin/review/{id}/preview.html", preview)
    gate.route("/admin/review/{id}", change, methods=("POST",), name="review-change")
    gate.route("/admin/review/{id}/send", send_now, methods=("POST",), admin=True)
