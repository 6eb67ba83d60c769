"""A draft's stories in the console: each item with the versions grouped under it, split one off or merge two.

Each change is one POST (the console's CSRF check, like every review action) and one audit
line naming the draft, the item and the version or story; flows.story_edits changes the draft
and stores the choice for later drafts.
"""

from __future__ import annotations

from starlette.responses import Response

from digest.flows import editorial, story_edits
from digest.flows.runtime import Runtime
from digest.models import ReviewDraft
from digest.web.admin.gate import Ctx, Gate, back


def _number(form: dict, name: str) -> int | None:
    value = str(form.get(name, ""))
    return int(value) if value.isdigit() and len(value) < 12 else None


def register(gate: Gate, runtime: Runtime) -> None:
    known = {n.slug: n for n in gate.settings.newsletters}

    def load(ctx: Ctx) -> ReviewDraft | None:
        wanted = ctx.param("id")
        if not (wanted.isdigit() and len(wanted) < 12):
            return None
        with gate.sessions() as session:
            row = session.get(ReviewDraft, int(wanted))
        return row if row is not None and row.newsletter in known else None

    def missing(ctx: Ctx) -> Response:
        return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such draft.")

    def page(ctx: Ctx, error: str = "", status: int = 200) -> Response:
        if (row := load(ctx)) is None:
            return missing(ctx)
        items = editorial.items_of(row)
        with gate.sessions() as session:
            versions = story_edits.versions_of(session, items)  # each version as stored: source, title, link
        newsletter = known[row.newsletter]
        return gate.page(ctx, "review_stories.html", status, title=f"Stories in the draft of {newsletter.title}",
                         draft=row, newsletter=newsletter, items=items, versions=versions, error=error)

    def change(ctx: Ctx) -> Response:
        if (row := load(ctx)) is None:
            return missing(ctx)
        action, form = str(ctx.form.get("action", "")), ctx.form
        item, version = _number(form, "item"), _number(form, "version")
        try:
            if action == "split" and item is not None and _number(form, "split") is not None:
                other = _number(form, "split")
                gate.act(ctx, "draft.story_split", f"draft:{row.id} item:{item}", lambda _s: story_edits.split(
                    runtime, row.id, -1 if version is None else version, item, other, ctx.who.name),
                    detail=f"version {other} taken out of the story")
            elif action == "merge" and item is not None and _number(form, "into") is not None:
                into = _number(form, "into")
                gate.act(ctx, "draft.story_merge", f"draft:{row.id} item:{item}", lambda _s: story_edits.merge(
                    runtime, row.id, -1 if version is None else version, item, into, ctx.who.name),
                    detail=f"merged into item {into}")
            else:
                return page(ctx, "Unknown change.", 400)
        except editorial.ReviewError as exc:
            return page(ctx, str(exc), 409)
        return back(f"/admin/review/{row.id}/stories", "saved")

    gate.route("/admin/review/{id}/stories", page)
    gate.route("/admin/review/{id}/stories", change, methods=("POST",), name="review-stories")
