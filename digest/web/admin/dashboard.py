"""The dashboard (every newsletter at a glance, then one in detail) and the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.responses import Response

from digest.flows import reputation
from digest.settings import NewsletterSettings, make_trigger
from digest.web.admin import accounts, charts, database, queries
from digest.web.admin.gate import Ctx, Gate


AUDIT_PAGE = 100


def _day(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc) if text else None
    except ValueError:
        return None


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
            todo = database.disk_todo(gate) + queries.needs_doing(session, settings.newsletters, standings, gate.now())
            for newsletter in settings.newsletters:
                panels.append({"newsletter": newsletter, "audience": queries.audience(session, newsletter.slug),
                               "next_fire": next_fire(newsletter),
                               "last": queries.issues(session, newsletter.slug, limit=1)})
        return gate.page(ctx, "overview.html", title="Dashboard", panels=panels, suppressed=suppressed, todo=todo,
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
        """Paged by entry id (100 a page, "Older" continues below the last shown) and filtered by operator,
        action (a prefix: "reader." is every action on readers) and UTC dates."""
        q = ctx.request.query_params
        wanted = {"operator": q.get("operator", "")[:64], "action": q.get("action", "")[:64],
                  "since": q.get("since", "")[:10], "until": q.get("until", "")[:10]}
        since, until = _day(wanted["since"]), _day(wanted["until"])
        before = int(q["before"]) if q.get("before", "").isdigit() and len(q["before"]) < 12 else 0
        with gate.sessions() as session:
            entries = accounts.recent_audit(session, AUDIT_PAGE + 1, wanted["operator"], wanted["action"], since,
                                            until + timedelta(days=1) if until else None, before)
            actions = accounts.audit_actions(session)
        more = len(entries) > AUDIT_PAGE
        entries = entries[:AUDIT_PAGE]
        older = urlencode({**{k: v for k, v in wanted.items() if v}, "before": entries[-1].id}) if more else ""
        return gate.page(ctx, "audit.html", title="Audit log", entries=entries, wanted=wanted, actions=actions,
                         older=older, newest=urlencode({k: v for k, v in wanted.items() if v}) if before else None)

    gate.route("/admin", overview)
    gate.route("/admin/newsletters/{slug}", detail)
    gate.route("/admin/audit", audit, admin=True)
    database.register(gate)  # the Database page: the dashboard's disk warning links to it
