"""The dashboard (every newsletter at a glance, then one in detail) and the audit log."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.responses import Response

from digest.flows import reputation
from digest.settings import NewsletterSettings, make_trigger
from digest.web.admin import accounts, charts, queries
from digest.web.admin.gate import Ctx, Gate


def register(gate: Gate) -> None:
    settings = gate.settings
    known = {n.slug: n for n in settings.newsletters}

    def next_fire(newsletter: NewsletterSettings):
        trigger = make_trigger(newsletter.schedule, ZoneInfo(newsletter.timezone))
        return trigger.get_next_fire_time(None, gate.now())

    def overview(ctx: Ctx) -> Response:
        panels = []
        with gate.sessions() as session:
            suppressed = queries.suppressed(session)
            standings = reputation.standings(session, settings.bounces, gate.now())
            for newsletter in settings.newsletters:
                panels.append({"newsletter": newsletter, "audience": queries.audience(session, newsletter.slug),
                               "next_fire": next_fire(newsletter),
                               "last": queries.issues(session, newsletter.slug, limit=1)})
        return gate.page(ctx, "overview.html", title="Dashboard", panels=panels, suppressed=suppressed,
                         standings=standings, window=settings.bounces.reputation_window_hours)

    def detail(ctx: Ctx) -> Response:
        newsletter = known.get(ctx.param("slug"))
        if newsletter is None:
            return gate.page(ctx, "message.html", 404, title="Not found", message="There is no such newsletter.")
        now = gate.now()
        with gate.sessions() as session:
            audience = queries.audience(session, newsletter.slug)
            suppressed = queries.suppressed(session)
            recent = queries.issues(session, newsletter.slug, limit=14)
            states = queries.sources(session, [s.url for s in newsletter.sources])
            series = queries.audience_by_day(session, newsletter.slug, now.date(), audience["confirmed"])
            drafts = queries.drafts(session, newsletter.slug, limit=3)
        chart = charts.build(series, [(f"{row.created_at:%d %b}", row.counts["sent"], row.counts["failed"])
                                      for row in reversed(recent)])
        extra = sorted({k for row in recent for k in row.counts} - {"queued", "retrying", "sent", "failed", "skipped",
                                                                   "newsletter"})
        return gate.page(ctx, "newsletter.html", title=newsletter.title, newsletter=newsletter, audience=audience,
                         suppressed=suppressed, issues=recent[:10], extra_columns=extra, chart=chart,
                         sources=[(s, states.get(s.url)) for s in newsletter.sources], next_fire=next_fire(newsletter),
                         drafts=drafts)

    def audit(ctx: Ctx) -> Response:
        with gate.sessions() as session:
            entries = accounts.recent_audit(session, 300, ctx.request.query_params.get("operator", "")[:64])
        return gate.page(ctx, "audit.html", title="Audit log", entries=entries)

    gate.route("/admin", overview)
    gate.route("/admin/newsletters/{slug}", detail)
    gate.route("/admin/audit", audit, admin=True)
