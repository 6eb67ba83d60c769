"""/api/v1: the lists for the newsroom's own systems, through the same code as the CLI and the console.

Every request names a key (`Authorization: Bearer dgk_...`); its scope is
checked before anything is read, its use is counted (api.requests_per_minute
per key, in the database, so every web process shares the budget), stamped on
the key and written to the audit log as `api:<key name>`. Writes go through
the subscribers package as `digest subscribers ...` does, so the consent record
says the same whoever made the change. Lists are paged by an opaque cursor
(the last row's id), never by offset, so a page costs the same at 100,000 rows.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from digest.errors import DeliveryError
from digest.flows import notices
from digest.models import Issue
from digest.settings import WEBHOOK_EVENTS, Settings
from digest.web.admin import accounts, queries
from digest.web.api import keys
from digest.web.api.issues import issue_endpoints
from digest.web.api.readers import reader_endpoints
from digest.web.api.site import site_endpoints
from digest.web.api.spec import CURSOR, Endpoint, Param, docs_page, openapi, page_of, problem
from digest.web.api.webhooks import webhook_endpoints_api
from subscribers import (InvalidAddress, Origin, SubscriberError, Suppressed, SubscriptionStatus, add_subscriber,
                         export_person, lift, normalize_address, remove_subscriber, suppress)
from subscribers.limits import network_key, take
from subscribers.models import Subscriber, Subscription, Suppression

log = logging.getLogger(__name__)
MINUTE = timedelta(minutes=1)
EMAIL = {"type": "string", "maxLength": 320}
SUBSCRIPTION = {"type": "object", "required": ["email", "newsletter", "status"], "properties": {
    "email": EMAIL, "newsletter": {"type": "string"}, "status": {"enum": [s.value for s in SubscriptionStatus]},
    "created_at": {"type": "string"}, "confirmed_at": {"type": ["string", "null"]}}}
SUPPRESSION = {"type": "object", "required": ["email", "active", "reason"], "properties": {
    "email": EMAIL, "active": {"type": "boolean"}, "reason": {"type": "string"}, "detail": {"type": "string"},
    "since": {"type": "string"}}}
ISSUE = {"type": "object", "required": ["id", "newsletter", "status", "subject"], "properties": {
    "id": {"type": "integer"}, "newsletter": {"type": "string"}, "status": {"type": "string"},
    "subject": {"type": "string"}, "created_at": {"type": "string"}, "counts": {"type": "object"}}}


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str = "") -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def api_routes(settings: Settings, sessions, now: Callable[[], datetime], transport_factory, env,
               client_ip, runtime) -> list[Route]:
    """`runtime` (a flows.runtime.Runtime) drafts and sends issues for the issues:write endpoints."""
    slugs = {n.slug: n for n in settings.newsletters}
    ttl_hours = settings.web.token_ttl_hours

    def _page(request: Request) -> tuple[int, int]:
        raw, size = request.query_params.get("cursor", ""), request.query_params.get("limit", "100")
        if not size.isdigit() or not 1 <= int(size) <= 200:
            raise Problem(400, "Bad limit", "limit is a number from 1 to 200")
        try:
            after = int(base64.urlsafe_b64decode(raw.encode() + b"==").decode()) if raw else 0
        except ValueError:
            raise Problem(400, "Bad cursor", "use the next_cursor of the previous page") from None
        return after, int(size)

    def _paged(rows: list, size: int, last_id) -> dict:
        more = len(rows) > size
        rows = rows[:size]
        cursor = base64.urlsafe_b64encode(str(last_id(rows[-1])).encode()).decode().rstrip("=") if more else None
        return {"next_cursor": cursor, "rows": rows}

    def _newsletter(value: str, required: bool = False) -> str | None:
        if value and value not in slugs:
            raise Problem(404 if not required else 400, "Unknown newsletter", f"known: {', '.join(slugs)}")
        if required and not value:
            raise Problem(400, "Missing newsletter", f"one of: {', '.join(slugs)}")
        return value or None

    def list_subscribers(caller, request, session, body):
        after, size = _page(request)
        q = request.query_params
        query = (select(Subscription.id, Subscriber.email, Subscription.newsletter, Subscription.status,
                        Subscription.created_at, Subscription.confirmed_at).join(Subscriber)
                 .where(Subscription.id > after).order_by(Subscription.id).limit(size + 1))
        if newsletter := _newsletter(q.get("newsletter", "")):
            query = query.where(Subscription.newsletter == newsletter)
        if status := q.get("status", ""):
            if status not in {s.value for s in SubscriptionStatus}:
                raise Problem(400, "Unknown status", "pending, confirmed or unsubscribed")
            query = query.where(Subscription.status == SubscriptionStatus(status))
        if part := q.get("q", "")[:320].strip().lower():
            query = query.where(Subscriber.email.contains(part, autoescape=True))
        # Plain rows through the session's connection: the ORM's loading machinery costs more than the query.
        page = _paged(session.connection().execute(query).all(), size, lambda r: r.id)
        return {"data": [{"email": r.email, "newsletter": r.newsletter, "status": r.status.value,
                          "created_at": r.created_at.isoformat(), "confirmed_at": _iso(r.confirmed_at)}
                         for r in page["rows"]], "next_cursor": page["next_cursor"]}

    def get_subscriber(caller, request, session, body):
        found = export_person(session, _address(request.path_params["email"]))
        if found is None:
            raise Problem(404, "Not found", "we hold nothing for this address")
        return found

    def create_subscriber(caller, request, session, body):
        email, newsletter = _address(str(body.get("email", ""))), _newsletter(str(body.get("newsletter", "")), True)
        consent = body.get("consent_obtained", False)
        statement = " ".join(str(body.get("consent_statement", "")).split())[:500]
        if consent is not False and (consent is not True or not statement):
            raise Problem(400, "Consent needs a statement",
                          "consent_obtained: true needs consent_statement (where and how the reader agreed)")
        origin = Origin("api", ip=client_ip(request), user_agent=f"{caller.who}" + (f"; {statement}" if statement
                                                                                     else ""))
        try:
            subscription, token = add_subscriber(session, email, newsletter, confirmed=consent, origin=origin,
                                                 now=now(), ttl=timedelta(hours=ttl_hours))
        except Suppressed as exc:
            raise Problem(409, "Suppressed", str(exc)) from None
        return {"email": email, "newsletter": newsletter, "status": subscription.status.value,
                "_mail": (email, token, newsletter) if token else None}

    def unsubscribe(caller, request, session, body):
        email = _address(request.path_params["email"])
        newsletter = _newsletter(str(body.get("newsletter", "")))
        changed = remove_subscriber(session, email, newsletter, Origin("api", ip=client_ip(request),
                                                                       user_agent=caller.who), now=now())
        return {"email": email, "unsubscribed": changed}

    def list_suppressions(caller, request, session, body):
        after, size = _page(request)
        query = select(Suppression).where(Suppression.id > after).order_by(Suppression.id).limit(size + 1)
        if request.query_params.get("active", "true") != "all":
            query = query.where(Suppression.active.is_(True))
        page = _paged(list(session.scalars(query)), size, lambda r: r.id)
        return {"data": [{"email": r.email, "active": r.active, "reason": r.reason, "detail": r.detail or "",
                          "since": r.created_at.isoformat()} for r in page["rows"]], "next_cursor": page["next_cursor"]}

    def add_suppression(caller, request, session, body):
        email, reason = _address(str(body.get("email", ""))), _reason(body)
        suppress(session, email, "operator", reason, Origin("api", ip=client_ip(request), user_agent=caller.who),
                 now())
        return {"email": email, "active": True, "reason": "operator", "detail": reason}

    def lift_suppression(caller, request, session, body):
        email, reason = _address(request.path_params["email"]), _reason(body)
        try:
            lift(session, email, reason, Origin("api", ip=client_ip(request), user_agent=caller.who), now())
        except SubscriberError as exc:
            raise Problem(404, "Not suppressed", str(exc)) from None
        return {"email": email, "active": False, "reason": "lifted", "detail": reason}

    def list_issues(caller, request, session, body):
        after, size = _page(request)
        newsletter = _newsletter(request.query_params.get("newsletter", ""))
        rows = queries.issues(session, newsletter, limit=size + 1, before=after or None)
        page = _paged(rows, size, lambda r: r.id)
        return {"data": [_issue(r) for r in page["rows"]], "next_cursor": page["next_cursor"]}

    def get_issue(caller, request, session, body):
        wanted = request.path_params["id"]
        if not wanted.isdigit() or len(wanted) > 12 or session.get(Issue, int(wanted)) is None:
            raise Problem(404, "Not found", "no such issue")
        rows = queries.issues(session, None, limit=1, before=int(wanted) + 1)
        return _issue(rows[0])

    email_param = (Param("email", "path", EMAIL),)
    slug = {"enum": list(slugs)}
    endpoints = [
        Endpoint("GET", "/api/v1/subscribers", "subscribers:read", "Subscriptions, paged", list_subscribers,
                 (*CURSOR, Param("newsletter", "query", slug),
                  Param("status", "query", {"enum": [s.value for s in SubscriptionStatus]}),
                  Param("q", "query", {"type": "string", "maxLength": 320}, "part of the address")),
                 response=page_of(SUBSCRIPTION)),
        Endpoint("POST", "/api/v1/subscribers", "subscribers:write",
                 "Add a reader: a confirmation mail (double opt-in), or confirmed with a consent statement",
                 create_subscriber, body={"type": "object", "required": ["email", "newsletter"], "properties": {
                     "email": EMAIL, "newsletter": slug, "consent_obtained": {"type": "boolean"},
                     "consent_statement": {"type": "string", "maxLength": 500}}},
                 response=SUBSCRIPTION, status=201, errors=(400, 401, 403, 409, 429)),
        Endpoint("GET", "/api/v1/subscribers/{email}", "subscribers:read",
                 "Everything held about one address: subscriptions, consent history, suppression", get_subscriber,
                 email_param),
        Endpoint("POST", "/api/v1/subscribers/{email}/unsubscribe", "subscribers:write",
                 "Unsubscribe from one newsletter, or all", unsubscribe, email_param,
                 body={"type": "object", "properties": {"newsletter": slug}}),
        Endpoint("GET", "/api/v1/suppressions", "subscribers:read", "Suppressed addresses, paged", list_suppressions,
                 (*CURSOR, Param("active", "query", {"enum": ["true", "all"]})), response=page_of(SUPPRESSION)),
        Endpoint("POST", "/api/v1/suppressions", "subscribers:write", "Suppress an address (a reason is required)",
                 add_suppression, body={"type": "object", "required": ["email", "reason"], "properties": {
                     "email": EMAIL, "reason": {"type": "string", "minLength": 1, "maxLength": 500}}},
                 response=SUPPRESSION, status=201),
        Endpoint("POST", "/api/v1/suppressions/{email}/lift", "subscribers:write",
                 "Lift a suppression (a reason is required)", lift_suppression, email_param,
                 body={"type": "object", "required": ["reason"], "properties": {
                     "reason": {"type": "string", "minLength": 1, "maxLength": 500}}}, response=SUPPRESSION),
        Endpoint("GET", "/api/v1/issues", "issues:read", "Issues, newest first, paged", list_issues,
                 (*CURSOR, Param("newsletter", "query", slug)), response=page_of(ISSUE)),
        Endpoint("GET", "/api/v1/issues/{id}", "issues:read", "One issue with its delivery and feedback counts",
                 get_issue, (Param("id", "path", {"type": "string", "pattern": "^[0-9]{1,12}$"}),), response=ISSUE),
        *reader_endpoints(settings, now, client_ip, Problem),
        *issue_endpoints(runtime, Problem),
        *site_endpoints(settings, now, Problem, _iso),
        *webhook_endpoints_api(settings, now, Problem, _iso),
    ]
    document = openapi(endpoints, settings.site.name, settings.site.base_url, WEBHOOK_EVENTS)

    def serve(endpoint: Endpoint):
        async def route(request: Request) -> Response:
            body: dict = {}
            if endpoint.body is not None:
                try:
                    body = json.loads(await request.body() or b"{}")
                except (ValueError, RecursionError):
                    return problem(400, "Bad JSON", "the body is one JSON object")
                if not isinstance(body, dict):
                    return problem(400, "Bad JSON", "the body is one JSON object")
            return await run_in_threadpool(answer, endpoint, request, body)
        return route

    def answer(endpoint: Endpoint, request: Request, body: dict) -> Response:
        header = request.headers.get("authorization", "")
        presented = header[7:].strip() if header[:7].lower() == "bearer " else ""
        at, network = now(), network_key(client_ip(request) or "")
        mail = None
        try:
            if keys.barred(network, at):
                raise Problem(429, "Too many requests", "too many requests with unknown keys from your network")
            with sessions() as session, session.begin():
                # A read's commit holds only its count and audit line: on PostgreSQL not worth a WAL flush each.
                caller = keys.caller_for(session, presented, at, quick_commit=endpoint.method == "GET")
                if caller is None:  # a key that cost a read counts against its network (committed with the block)
                    return _refused(not keys.well_formed(presented) or keys.count_unknown(session, network, at))
                if endpoint.scope not in caller.scopes:
                    raise Problem(403, "Not allowed", f"this key lacks the scope {endpoint.scope}")
                if not take(session, f"api:{caller.key_id}", settings.api.requests_per_minute, at, MINUTE):
                    raise Problem(429, "Too many requests", f"{settings.api.requests_per_minute} a minute per key")
                result = None if endpoint.separate else endpoint.handler(caller, request, session, body)
                mail = result.pop("_mail", None) if isinstance(result, dict) else None
                accounts.record(session, caller.who, f"api.{endpoint.method.lower()}",
                                at, target=request.url.path[:300], detail=request.url.query[:300],
                                ip=client_ip(request))
            if endpoint.separate:
                result = endpoint.handler(caller, request, None, body)
        except Problem as exc:
            headers = {"Retry-After": "60"} if exc.status == 429 else None
            if exc.status == 401:
                headers = {"WWW-Authenticate": "Bearer"}
            return problem(exc.status, exc.title, exc.detail, headers)
        except SubscriberError as exc:
            return problem(400, "Not done", str(exc))
        if mail is not None:  # after the commit: a refused mail leaves the reader pending, never half made
            email, token, slug = mail
            try:
                notices.send_confirmation(transport_factory(), env, settings.site, slugs[slug], email, token,
                                          now=at, ttl_hours=ttl_hours, bounces=settings.bounces)
            except DeliveryError as exc:
                log.error("API: confirmation to %s failed: %s", email, exc)
                result["confirmation"] = "failed: the reader stays pending; ask again later"
        return JSONResponse(result, status_code=endpoint.status)

    async def spec_route(_request: Request) -> Response:
        return JSONResponse(document)

    async def docs_route(_request: Request) -> Response:
        return HTMLResponse(docs_page(document))

    routes = [Route("/api/v1/openapi.json", spec_route), Route("/api/v1/docs", docs_route)]
    by_path: dict[str, list[Endpoint]] = {}
    for e in endpoints:
        by_path.setdefault(e.path, []).append(e)
    for path, group in by_path.items():
        table = {e.method: serve(e) for e in group}

        async def dispatch(request: Request, table=table) -> Response:
            return await table[request.method](request)
        routes.append(Route(path, dispatch, methods=list(table)))
    return routes


def _refused(within_budget: bool) -> Response:
    if within_budget:
        return problem(401, "No valid key", "send Authorization: Bearer <key> (digest apikeys add)",
                       {"WWW-Authenticate": "Bearer"})
    return problem(429, "Too many requests", "too many requests with unknown keys from your network",
                   {"Retry-After": "60"})


def _address(value: str) -> str:
    try:
        return normalize_address(value)
    except InvalidAddress as exc:
        raise Problem(400, "Bad address", str(exc)) from None


def _reason(body: dict) -> str:
    reason = " ".join(str(body.get("reason", "")).split())[:500]
    if not reason:
        raise Problem(400, "A reason is needed", "say why: it is recorded in the reader's consent history")
    return reason


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _issue(row) -> dict:
    return {"id": row.id, "newsletter": row.counts.get("newsletter", ""), "status": row.status,
            "subject": row.subject, "created_at": row.created_at.isoformat(),
            "counts": {k: v for k, v in row.counts.items() if k != "newsletter"}}
