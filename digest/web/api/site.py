"""/api/v1 endpoints that read the site as configured and measured: the newsletters and their settings (read
only: they live in config.toml), the sources' health, and the click figures `digest stats` prints, through the
same queries (digest.analytics.figures), only when analytics is on for the newsletter asked about."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from digest import compose
from digest.analytics.figures import HOW, issue_figures, newsletter_issues, top_items
from digest.flows.clicklinks import counting
from digest.models import Issue, SourceState
from digest.web.api.spec import Endpoint, Param

NEWSLETTER = {"type": "object", "required": ["slug", "title"], "properties": {
    "slug": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
    "schedule": {"type": "string"}, "timezone": {"type": "string"}, "review": {"type": "string"},
    "roundup_schedule": {"type": "string"}}}
LINK = {"type": "object", "required": ["number", "url", "people", "requests"], "properties": {
    "number": {"type": "integer"}, "url": {"type": "string"}, "title": {"type": "string"},
    "section": {"type": "string"}, "people": {"type": "integer"}, "requests": {"type": "integer"}}}
FIGURES = {"type": "object", "required": ["issue", "newsletter", "people", "requests", "links"], "properties": {
    "issue": {"type": "integer"}, "newsletter": {"type": "string"}, "subject": {"type": "string"},
    "created_at": {"type": "string"}, "people": {"type": "integer"}, "requests": {"type": "integer"},
    "opens_people": {"type": "integer"}, "opens": {"type": "integer"},
    "machines": {"type": "object", "additionalProperties": {"type": "integer"}},
    "links": {"type": "array", "items": LINK}}}
STATS = {"type": "object", "required": ["newsletter", "issues", "top", "how"], "properties": {
    "newsletter": {"type": "string"}, "issues": {"type": "array", "items": FIGURES},
    "top": {"type": "object", "additionalProperties": {"type": "array", "items": LINK}}, "how": {"type": "string"}}}


def site_endpoints(settings, now, problem_type, iso) -> list[Endpoint]:
    """`problem_type` is routes.Problem; `iso` formats an optional datetime."""
    slugs = {n.slug: n for n in settings.newsletters}

    def summary(n) -> dict:
        return {"slug": n.slug, "title": n.title, "description": n.description, "schedule": n.schedule,
                "timezone": n.timezone, "review": n.review, "roundup_schedule": n.roundup_schedule}

    def newsletter_of(request):
        n = slugs.get(request.path_params["slug"])
        if n is None:
            raise problem_type(404, "Unknown newsletter", f"known: {', '.join(slugs)}")
        return n

    def list_newsletters(caller, request, session, body):
        return {"data": [summary(n) for n in settings.newsletters]}

    def get_newsletter(caller, request, session, body):
        n = newsletter_of(request)
        clicks, opens = counting(settings, n)
        return {**summary(n), "language": n.language, "from_address": n.from_address, "reply_to": n.reply_to,
                "max_items": n.max_items, "top_stories": n.top_stories, "welcome_email": n.welcome_email,
                "sections": list(compose.section_titles(n)), "sources": [s.name for s in n.sources],
                "analytics": {"clicks": clicks, "opens": opens}}

    def list_sources(caller, request, session, body):
        states = {s.url: s for s in session.scalars(select(SourceState))}
        return {"data": [{"newsletter": n.slug, "name": s.name, "url": s.url,
                          "last_success_at": iso(getattr(states.get(s.url), "last_success_at", None)),
                          "failures": getattr(states.get(s.url), "failures", 0) or 0,
                          "last_error": getattr(states.get(s.url), "last_error", None) or ""}
                         for n in settings.newsletters for s in n.sources]}

    def counted(n) -> None:
        if not any(counting(settings, n)):
            raise problem_type(404, "Analytics is off", f"turn on analytics.clicks for {n.slug} to count links")

    def newsletter_stats(caller, request, session, body):
        n = newsletter_of(request)
        counted(n)
        wanted = request.query_params.get("issues", "10")
        if not wanted.isdigit() or not 1 <= int(wanted) <= 50:
            raise problem_type(400, "Bad issues", "issues is a number from 1 to 50")
        at = now()
        return {"newsletter": n.slug, "how": HOW,
                "issues": [_figures(issue, f, iso) for issue, f in newsletter_issues(session, n.slug, int(wanted))],
                "top": {f"{days}d": [_link(link) for link in top_items(session, n.slug, at - timedelta(days=days))]
                        for days in (7, 30)}}

    def issue_stats(caller, request, session, body):
        wanted = request.path_params["id"]
        issue = session.get(Issue, int(wanted)) if wanted.isdigit() and len(wanted) <= 12 else None
        if issue is None or issue.newsletter not in slugs:
            raise problem_type(404, "Not found", "no such issue")
        counted(slugs[issue.newsletter])
        f = issue_figures(session, [issue.id]).get(issue.id)
        if f is None:
            raise problem_type(404, "Not counted", "this issue was sent without counted links")
        return _figures(issue, f, iso)

    slug = (Param("slug", "path", {"type": "string", "maxLength": 64}),)
    return [
        Endpoint("GET", "/api/v1/newsletters", "subscribers:read", "The site's newsletters", list_newsletters,
                 response={"type": "object", "required": ["data"], "properties": {
                     "data": {"type": "array", "items": NEWSLETTER}}}),
        Endpoint("GET", "/api/v1/newsletters/{slug}", "subscribers:read",
                 "One newsletter's settings (read only: they are set in config.toml)", get_newsletter, slug,
                 response=NEWSLETTER),
        Endpoint("GET", "/api/v1/newsletters/{slug}/stats", "stats:read",
                 "Clicks of the latest issues with counted links, as `digest stats` prints them: people "
                 "(estimated) beside all requests, opens apart; 404 when analytics is off", newsletter_stats,
                 (*slug, Param("issues", "query", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10})),
                 response=STATS),
        Endpoint("GET", "/api/v1/issues/{id}/stats", "stats:read", "One issue's clicks per link", issue_stats,
                 (Param("id", "path", {"type": "string", "pattern": "^[0-9]{1,12}$"}),), response=FIGURES),
        Endpoint("GET", "/api/v1/sources", "issues:read", "Every source's health", list_sources),
    ]


def _link(link) -> dict:
    return {"number": link.number, "url": link.url, "title": link.title, "section": link.section,
            "people": link.people, "requests": link.requests}


def _figures(issue, f, iso) -> dict:
    return {"issue": issue.id, "newsletter": issue.newsletter, "subject": issue.subject,
            "created_at": iso(issue.created_at), "people": f.people, "requests": f.requests,
            "opens_people": f.opens_people, "opens": f.opens, "machines": dict(f.machines),
            "links": [_link(link) for link in f.links]}
