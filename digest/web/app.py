"""The web app (ASGI, Starlette): signup, confirmation and unsubscribe (links.py), issue archive, health.

Every state change is a POST; a GET only shows a page with a button, because
mail security scanners open every link in a message. Signup answers the same
way whatever the address's state (no enumeration). The service work is
synchronous (SQLAlchemy, SMTP), so handlers hand it to the thread pool.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from digest.flows import overview
from digest.flows.runtime import Runtime
from digest.settings import Settings
from digest.errors import ConfigError
from digest.render.html import issue_path, make_environment
from digest.render.i18n import N_
from digest.web import archive
from digest.web.admin import console_routes
from digest.web.clicks import Clicks
from digest.web.guards import BodyLimit, ClientAddress, SameOriginPosts, SecurityHeaders
from digest.web.links import link_routes
from digest.web.api.routes import api_routes
from digest.web.ops import ops_routes
from digest.web.pages import Pages
from digest.web.preferences import preference_routes
from digest.web.signup import SignupDesk
from subscribers import Origin
from subscribers.db import utcnow

log = logging.getLogger(__name__)

# The web version of an issue is the email's own HTML: nothing in it may run or load from elsewhere.
ISSUE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; form-action 'none'"


def create_app(settings: Settings, sessions, transport_factory, *, now: Callable[[], datetime] = utcnow,
               status: Callable[[], dict] | None = None, reader_pages: bool = True,
               mailer: Callable[[Callable[[], None]], object] | None = None) -> Starlette:
    """The reader-facing pages and the console (unless reader_pages=False) plus /healthz, /status and /metrics.

    `mailer` runs each signup's work and its confirmation email (default: a small background pool).
    """
    env = make_environment(settings.render.templates_dir or None)
    web = settings.web
    newsletters = {n.slug: n for n in settings.newsletters}
    desk = SignupDesk(settings, sessions, transport_factory, env, now, run=mailer)
    client_ip = ClientAddress(web.trusted_proxies)
    clicks = Clicks(settings, sessions, client_ip)

    pages = Pages(settings, env, " ".join(["'self'", *web.allowed_origins]))  # errors too, in the reader's language
    page = pages.page

    def origin(request: Request) -> Origin:
        return Origin(source="web", ip=client_ip(request), user_agent=request.headers.get("user-agent", ""))

    async def home(request: Request) -> Response:
        return page("signup.html")

    async def one_newsletter(request: Request) -> Response:
        """/newsletters/<slug> (its page) and /embed/<slug> (its box, for an iframe): in its own language."""
        slug = request.path_params["slug"]
        if slug not in newsletters:
            return page("message.html", 404, title=N_("Not found"), message=N_("There is no such newsletter."))
        if request.url.path.startswith("/embed/"):
            return page("embed.html", slug=slug, newsletter=newsletters[slug])
        return page("signup.html", slug=slug, newsletters=[newsletters[slug]], single=slug)

    async def subscribe_form(request: Request) -> Response:
        form = await request.form()
        slug = str(form.get("newsletter", ""))
        status, message, later = await run_in_threadpool(desk.submit, str(form.get("email", "")), slug,
                                                         origin(request), str(form.get("website", "")))
        template = "embed.html" if form.get("embed") else "signup.html"
        single = slug in newsletters and bool(form.get("embed") or form.get("single"))
        listed = {"newsletters": [newsletters[slug]], "single": slug} if single and not form.get("embed") else {}
        response = page(template, status, slug=slug if single else "", newsletter=newsletters.get(slug), **listed,
                        messages={slug: (status, message)}, email=str(form.get("email", "")) if status == 400 else "")
        response.background = BackgroundTask(later) if later else None
        return response

    async def subscribe_api(request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                data = json.loads(await request.body())
                assert isinstance(data, dict)
            except (ValueError, AssertionError, RecursionError):  # RecursionError: JSON nested thousands deep
                return JSONResponse({"ok": False, "error": "Send a JSON object with email and newsletter."}, 400)
        else:
            data = dict(await request.form())
        status, message, later = await run_in_threadpool(desk.submit, str(data.get("email", "")),
                                                         str(data.get("newsletter", "")), origin(request),
                                                         str(data.get("website", "")))
        body = {"ok": True, "message": message} if status == 200 else {"ok": False, "error": message}
        return JSONResponse(body, status_code=status, background=BackgroundTask(later) if later else None)

    def secret() -> str:
        if not settings.site.secret_key:
            raise ConfigError(f"the environment variable {settings.site.secret_key_env} is not set")
        return settings.site.secret_key

    def issue_link(entry: archive.ArchivedIssue, latest_of_day: set[int]) -> str:
        path = issue_path(entry.newsletter, datetime.combine(entry.date, datetime.min.time()))
        return path if entry.id in latest_of_day else f"{path}?issue={entry.id}"

    def archive_page(slug: str, day_text: str | None, wanted: str) -> Response:
        newsletter = newsletters.get(slug)
        day = archive.parse_date(day_text) if day_text is not None else None
        if newsletter is None or (day_text is not None and day is None):
            return page("message.html", 404, slug=slug, title=N_("Not found"), message=N_("There is no such issue."))
        with sessions() as session:
            entries = archive.list_issues(session, slug, newsletter.timezone, on=day)
            if day is None:
                by_day: dict = {}  # newest issue of each day: the one its date link serves
                for entry in entries:
                    by_day.setdefault(entry.date, entry.id)
                latest = set(by_day.values())
                return page("archive.html", slug=slug, title=N_("%(newsletter)s: all issues"), newsletter=newsletter,
                            values={"newsletter": newsletter.title},
                            issues=entries, day=None, issue_url=lambda e: issue_link(e, latest))
            if wanted:  # an email's own permanent link: that issue, even if it was stored just past midnight
                chosen = archive.find_issue(session, slug, newsletter.timezone, wanted, day)
            else:
                chosen = entries[0] if entries else None
            if chosen is None:
                return page("message.html", 404, slug=slug, title=N_("Not found"), message=N_(
                    "There is no issue of %(newsletter)s on that date."), values={"newsletter": newsletter.title})
            html = archive.issue_html(session, chosen.id, settings.site.base_url.rstrip("/") + "/")
        return HTMLResponse(html, headers={"Content-Security-Policy": ISSUE_CSP})

    async def archive_route(request: Request) -> Response:
        return await run_in_threadpool(archive_page, request.path_params["slug"], None, "")

    async def issue_route(request: Request) -> Response:
        return await run_in_threadpool(archive_page, request.path_params["slug"], request.path_params["day"],
                                       request.query_params.get("issue", ""))

    routes = [
        *clicks.routes,  # /r/<token>, counted links (issue 26); Middleware(clicks.front) answers them first
        Route("/", home),
        Route("/embed/{slug}", one_newsletter),
        Route("/newsletters/{slug}", one_newsletter),
        Route("/subscribe", subscribe_form, methods=["POST"]),
        Route("/api/subscribe", subscribe_api, methods=["POST"]),
        *link_routes(settings, sessions, page, secret, origin, now, transport_factory, env),  # confirm, unsubscribe
        Route("/issues/{slug}", archive_route),
        Route("/issues/{slug}/{day}", issue_route),
        *preference_routes(settings, sessions, page, secret, origin, now, desk, transport_factory, env),
    ] if reader_pages else []
    if reader_pages and settings.admin.enabled:
        runtime = Runtime(settings=settings, sessions=sessions, transport_factory=transport_factory,
                                   now=now, templates=env)
        routes += console_routes(settings, sessions, env, now, client_ip, runtime)
    if reader_pages and settings.api.enabled:
        routes += api_routes(settings, sessions, now, transport_factory, env, client_ip, Runtime(
            settings=settings, sessions=sessions, transport_factory=transport_factory, now=now, templates=env))
    routes += ops_routes(status or (lambda: database_status(settings, sessions, now)), web.ops_allowed_ips,
                         client_ip)
    middleware = [
        Middleware(clicks.front),  # /r/ first: the one path taking thousands of requests a second
        Middleware(SecurityHeaders),
        Middleware(SameOriginPosts, allowed_origins=web.allowed_origins,
                   site_origin=_origin_of(settings.site.base_url), refuse=pages.refusal),
        Middleware(BodyLimit, max_bytes=web.max_body_bytes, refuse=pages.refusal),
        Middleware(CORSMiddleware, allow_origins=list(web.allowed_origins), allow_methods=["POST"],
                   allow_headers=["Content-Type"]),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=clicks.lifespan,
                    exception_handlers=pages.handlers if reader_pages else None)
    app.router.redirect_slashes = False  # its redirect is built from the Host header a client sends
    return app


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def database_status(settings: Settings, sessions, now) -> dict:
    """/status in a process with no scheduler: next fires from config, last issues from the database."""
    return overview.status(settings, sessions, now, role="no scheduler in this process")
