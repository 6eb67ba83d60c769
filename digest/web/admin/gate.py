"""The console's door: who is asking, may they, and is this form really from our page.

Every /admin route goes through `Gate.route`, so none can forget the check:
no session means a redirect to the login page for a GET and 401 for anything
else, with no data either way; an editor asking for an admin's page gets 403;
a POST must carry the session's CSRF token. Pages get a strict
Content-Security-Policy: no script at all, our one stylesheet by nonce,
frames only from ourselves (the preview), forms only to ourselves.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from digest.settings import Settings
from digest.render.html import render_template
from digest.web.admin import accounts, queries
from digest.web.guards import ClientAddress

COOKIE = "digest_console"
LOGIN_COOKIE = "digest_console_login"  # the login form's own CSRF token (double submit): no session yet
CONSOLE_CSP = ("default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; frame-src 'self'; "
               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# A preview or a sent issue inside the console's sandboxed iframe: the email's own inline styles, nothing runs.
# Previews load no image from outside: the feeds' image servers would learn when an editor reviews, and from
# where. Each remote image shows as a placeholder of its size (framed()), and the policy blocks what slips by.
FRAMED_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'self'; sandbox")
_REMOTE_IMAGE = re.compile(r"""(<img\b[^>]{0,2000}?\bsrc\s*=\s*)(["'])\s*(?:https?:)?//[^"']*\2""", re.IGNORECASE)
_PLACEHOLDER = ("data:image/svg+xml,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27 width=%27600%27 height=%27300%27%3E"
                "%3Crect width=%27100%25%27 height=%27100%25%27 fill=%27%23e8e8e8%27/%3E%3Ctext x=%2750%25%27 "
                "y=%2750%25%27 font-family=%27sans-serif%27 font-size=%2718%27 fill=%27%23555%27 "
                "text-anchor=%27middle%27%3EImage not loaded in the preview%3C/text%3E%3C/svg%3E")
MESSAGES = {
    "requeued": "Failed deliveries queued again: the next send or the daemon's resume round sends them.",
    "paused": "The issue is paused.", "resumed": "The issue will resume with the next send or resume round.",
    "unsubscribed": "The reader is unsubscribed.", "test-sent": "Test copy sent.",
    "sent": "The issue was made and is being sent.", "nothing-new": "Nothing new: no issue was made.",
    "saved": "Saved.", "unchanged": "Nothing had changed: nothing saved.", "approved": "Approved: this version is what will be sent.",
    "drafted": "Drafted for review; the editors were asked. Once approved, it can be sent now from this page.",
    "suppressed": "The address is suppressed: nothing more goes to it until an operator lifts the suppression.",
    "lifted": "The suppression is lifted: the address gets what it is subscribed to again.",
    "operator-added": "The operator is added: they can log in now.",
    "operator-reset": "The password is reset; every session of that account has ended.",
    "operator-removed": "The operator is removed and logged out everywhere.",
    "password-changed": "Your password is changed. Log in with the new one.",
    "apikey-revoked": "The key is revoked: every request with it is refused from now on.",
    "webhook-enabled": "The endpoint is enabled: its queued events go out again.",
}


@dataclass
class Ctx:
    """What a handler gets: the request's data, the operator, the form (POST), and the client's address."""

    request: Request
    who: accounts.Who
    form: dict
    ip: str

    def param(self, name: str) -> str:
        return str(self.request.path_params.get(name, ""))


class Gate:
    def __init__(self, settings: Settings, sessions, env, now: Callable, client_ip: ClientAddress) -> None:
        self.settings, self.sessions, self.env, self.now, self.client_ip = settings, sessions, env, now, client_ip
        self.routes: list[Route] = []

    # -- who is asking ---------------------------------------------------------------------------

    def who(self, request: Request) -> accounts.Who | None:
        token = request.cookies.get(COOKIE, "")
        if not token:
            return None
        with self.sessions() as session, session.begin():
            return accounts.find_session(session, token, self.now(), self.settings.admin)

    def route(self, path: str, handler: Callable[[Ctx], Response], *, methods=("GET",), admin: bool = False,
              name: str | None = None) -> None:
        """Register `handler` (a plain function, run in the thread pool) behind the checks."""

        async def endpoint(request: Request) -> Response:
            who = await run_in_threadpool(self.who, request)
            if who is None:
                if request.method in ("GET", "HEAD"):
                    return RedirectResponse(f"/admin/login?next={quote(request.url.path)}", status_code=303)
                return PlainTextResponse("Log in first.", status_code=401)
            if admin and not who.is_admin:
                return self.page(None, "message.html", 403, title="Not allowed",
                                 message="This page is for admins.", who=who)
            form: dict = {}
            if request.method == "POST":
                form = dict(await request.form())
                if not hmac.compare_digest(str(form.get("csrf", "")), who.csrf):
                    return PlainTextResponse("The form has expired: reload the page and try again.", status_code=403)
            return await run_in_threadpool(handler, Ctx(request, who, form, self.client_ip(request)))

        self.routes.append(Route(path, endpoint, methods=list(methods), name=name))

    # -- answers ---------------------------------------------------------------------------------

    def page(self, ctx: Ctx | None, template: str, status: int = 200, *, who: accounts.Who | None = None,
             headers: dict | None = None, **context) -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        who = who or (ctx.who if ctx else None)
        done = ctx.request.query_params.get("done", "") if ctx else ""
        waiting = 0
        if who is not None:
            with self.sessions() as session:
                waiting = queries.waiting_for_review(session)
        context = {"site": self.settings.site.for_templates(), "newsletters": self.settings.newsletters, "who": who,
                   "waiting": waiting,
                   "csrf": who.csrf if who else "", "nonce": nonce, "notice": MESSAGES.get(done, ""),
                   "title": "", "show_newsletter": False, "extra_columns": [], **context}
        body = render_template(self.env, f"web/admin/{template}", context)
        return HTMLResponse(body, status_code=status, headers={
            "Content-Security-Policy": CONSOLE_CSP.format(nonce=nonce), "Cache-Control": "no-store",
            **(headers or {})})

    def act(self, ctx: Ctx, action: str, target: str, work: Callable, detail: str = ""):
        """Do `work(session)` and write its audit line in one transaction; returns what work returned."""
        with self.sessions() as session, session.begin():
            result = work(session)
            accounts.record(session, ctx.who.name, action, self.now(), target=target,
                            detail=detail if not callable(detail) else detail(result), ip=ctx.ip)
        return result

    def cookie(self, response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/admin", httponly=True, samesite="strict",
                            secure=self.client_ip.is_https(request))


def framed(html: str) -> HTMLResponse:
    """An email's HTML for the console's iframe: sandboxed by header too, framable by ourselves only, its
    remote images replaced by a placeholder (their alt text stays)."""
    html = _REMOTE_IMAGE.sub(lambda m: f"{m.group(1)}{m.group(2)}{_PLACEHOLDER}{m.group(2)}", html)
    return HTMLResponse(html, headers={"Content-Security-Policy": FRAMED_CSP, "X-Frame-Options": "SAMEORIGIN",
                                       "Cache-Control": "no-store"})


def back(path: str, done: str = "") -> RedirectResponse:
    return RedirectResponse(path + (f"?done={done}" if done else ""), status_code=303)


def safe_next(value: str) -> str:
    """Only a path inside the console: a crafted ?next= must not send a fresh login elsewhere."""
    if value.startswith("/admin") and not value.startswith("//") and "\\" not in value and "\n" not in value:
        return value
    return "/admin"
