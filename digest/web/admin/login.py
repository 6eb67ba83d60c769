"""/admin/login and /admin/logout: the only console pages open without a session.

A login always opens a new session with a new token, and ends the one the
browser carried before, so a token planted in a victim's browser before they
log in is worth nothing after (no session fixation). The login form itself is
protected from cross-site posting twice: SameOriginPosts at the app's door and
a double-submit token in a cookie of its own.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from digest import metrics
from digest.web.admin import accounts
from digest.web.admin.gate import COOKIE, LOGIN_COOKIE, MESSAGES, Ctx, Gate, safe_next


log = logging.getLogger(__name__)


def login_routes(gate: Gate) -> list[Route]:
    admin = gate.settings.admin

    def form_page(request: Request, status: int = 200, error: str = "", name: str = "") -> Response:
        token = request.cookies.get(LOGIN_COOKIE, "")
        fresh = not token or len(token) > 100
        token = secrets.token_urlsafe(24) if fresh else token
        response = gate.page(None, "login.html", status, title="Log in", login_token=token, error=error, name=name,
                             next=safe_next(request.query_params.get("next", "")),
                             notice=MESSAGES.get(request.query_params.get("done", ""), ""))
        if fresh:
            gate.cookie(response, request, LOGIN_COOKIE, token, max_age=3600)
        return response

    def attempt(request: Request, form: dict) -> Response:
        name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
        ip, now = gate.client_ip(request), gate.now()
        with gate.sessions() as session, session.begin():
            if not accounts.login_allowed(session, name, ip, now, admin):
                accounts.record(session, name[:64] or "-", "login.throttled", now, ip=ip)
                throttled = True
            else:
                throttled = False
                operator = accounts.authenticate(session, name, password)
                if operator is not None:
                    token = accounts.open_session(session, operator, now, admin, ip=ip,
                                                  user_agent=request.headers.get("user-agent", ""),
                                                  replaces=request.cookies.get(COOKIE, ""))
                    accounts.record(session, operator.name, "login", now, ip=ip)
                else:
                    token = None
                    accounts.record(session, name[:64] or "-", "login.failed", now, ip=ip)
                    if accounts.failed_login(session, name, ip, now, admin):
                        accounts.record(session, name[:64] or "-", "login.alarm", now, ip=ip,
                                        detail=f"more than {admin.login_attempts_per_account} wrong passwords in "
                                               f"{admin.login_window_minutes:g} minutes, from any network")
                        metrics.LOGIN_ALARMS.inc()
                        log.warning("ALARM: more than %d wrong passwords for operator %r in %g minutes",
                                    admin.login_attempts_per_account, name[:64], admin.login_window_minutes)
        if throttled:
            return form_page(request, 429, "Too many wrong passwords from your network: wait a minute or two "
                                           "before trying again.", name)
        if token is None:
            return form_page(request, 401, "Wrong name or password.", name)
        response = RedirectResponse(safe_next(str(form.get("next", ""))), status_code=303)
        gate.cookie(response, request, COOKIE, token, max_age=int(admin.session_hours * 3600))
        response.delete_cookie(LOGIN_COOKIE, path="/admin", httponly=True, samesite="strict",
                               secure=gate.client_ip.is_https(request))
        return response

    async def login(request: Request) -> Response:
        if request.method != "POST":
            return form_page(request)
        form = dict(await request.form())
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(str(form.get("login_token", "")), expected):
            return form_page(request, 403, "The form has expired: please try again.")
        return await run_in_threadpool(attempt, request, form)

    return [Route("/admin/login", login, methods=["GET", "POST"])]


def register_logout(gate: Gate) -> None:
    def logout(ctx: Ctx) -> Response:
        with gate.sessions() as session, session.begin():
            accounts.close_session(session, ctx.request.cookies.get(COOKIE, ""))
            accounts.record(session, ctx.who.name, "logout", gate.now(), ip=ctx.ip)
        response = RedirectResponse("/admin/login", status_code=303)
        response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="strict",
                               secure=gate.client_ip.is_https(ctx.request))
        return response

    gate.route("/admin/logout", logout, methods=("POST",))
