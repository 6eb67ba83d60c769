"""Readers (admins only): search by address, one reader's subscriptions and consent history, unsubscribe,
and the CSV export of a newsletter's audience.

Suppress / lift act on the suppression list the bounce handling keeps; a
lift needs a reason, recorded in the reader's consent history and the audit log.
"""

from __future__ import annotations

from starlette.responses import Response

from digest.web.admin import queries
from digest.web.admin.gate import Ctx, Gate, back
from subscribers import (Origin, SubscriberError, SubscriptionStatus, active_suppression, export_csv, lift,
                         remove_subscriber, subscriptions_for_export, suppress)


def register(gate: Gate) -> None:
    known = {n.slug for n in gate.settings.newsletters}

    def search(ctx: Ctx) -> Response:
        query = ctx.request.query_params.get("q", "")[:320]
        with gate.sessions() as session:
            found = queries.find_readers(session, query)
        return gate.page(ctx, "readers.html", title="Readers", query=query, found=found,
                         statuses=[s.value for s in SubscriptionStatus])

    def load(ctx: Ctx):
        wanted = ctx.param("id")
        if not (wanted.isdigit() and len(wanted) < 12):
            return None
        with gate.sessions() as session:
            return queries.reader(session, int(wanted))

    def detail(ctx: Ctx) -> Response:
        found = load(ctx)
        if found is None:
            return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such reader.")
        subscriber, subscriptions, events = found
        with gate.sessions() as session:
            suppression = active_suppression(session, subscriber.email) if subscriber.email else None
        return gate.page(ctx, "reader.html", title=subscriber.email or "Erased reader", subscriber=subscriber,
                         subscriptions=subscriptions, events=events, suppression=suppression)

    def suppression(ctx: Ctx) -> Response:
        found = load(ctx)
        action = ctx.param("action")
        reason = str(ctx.form.get("reason", "")).strip()[:500]
        if found is None or not found[0].email or action not in ("suppress", "lift"):
            return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such reader.")
        if not reason:
            return gate.page(ctx, "message.html", 400, title="A reason is needed",
                             message="Say why: it is recorded in the reader's consent history.")
        email = found[0].email
        origin = Origin("console", ip=ctx.ip, user_agent=f"operator {ctx.who.name}")
        try:
            gate.act(ctx, f"reader.{action}", email, lambda session: suppress(
                session, email, "operator", reason, origin, gate.now()) if action == "suppress" else lift(
                session, email, reason, origin, gate.now()), detail=reason)
        except SubscriberError as exc:
            return gate.page(ctx, "message.html", 400, title="Nothing done", message=str(exc))
        return back(f"/admin/readers/{found[0].id}", "suppressed" if action == "suppress" else "lifted")

    def unsubscribe(ctx: Ctx) -> Response:
        found = load(ctx)
        slug = str(ctx.form.get("newsletter", ""))
        if found is None or slug not in known or not found[0].email:
            return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such subscription.")
        email = found[0].email
        origin = Origin("console", ip=ctx.ip, user_agent=f"operator {ctx.who.name}")
        gate.act(ctx, "reader.unsubscribe", email, lambda session: remove_subscriber(
            session, email, slug, origin, now=gate.now()), detail=f"newsletter={slug}")
        return back(f"/admin/readers/{found[0].id}", "unsubscribed")

    def export(ctx: Ctx) -> Response:
        slug = ctx.request.query_params.get("newsletter", "")
        status = ctx.request.query_params.get("status", "")
        state = SubscriptionStatus(status) if status in {s.value for s in SubscriptionStatus} else None
        body = gate.act(ctx, "readers.export", f"newsletter:{slug or 'all'}", lambda session: export_csv(
            subscriptions_for_export(session, slug if slug in known else None, state)), detail=f"status={status}")
        name = f"readers-{slug if slug in known else 'all'}{'-' + state.value if state else ''}.csv"
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    gate.route("/admin/readers", search, admin=True)
    gate.route("/admin/readers/export.csv", export, admin=True)
    gate.route("/admin/readers/{id}", detail, admin=True)
    gate.route("/admin/readers/{id}/unsubscribe", unsubscribe, methods=("POST",), admin=True)
    gate.route("/admin/readers/{id}/{action}", suppression, methods=("POST",), admin=True)
