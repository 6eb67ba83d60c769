"""/r/<token>: a counted link (issue 26). Answers 302 at once; the click is recorded off the request path.

The token is checked before anything else (a forged or truncated one is a
404 without touching the database); the target comes from the issue's
stored links, never from the URL, so this is no open redirect. An issue's
links are read once, all together, and kept: later clicks, replayed links
and a database that has gone away since cost nothing. If the database is
down before an issue's links were read, the reader goes to the site's front
page rather than an error (and the click is not counted). A link from a
reader's own copy (analytics.per_reader) carries ".<reader part>" after the
token, signed for that issue: a bad one is a 404 like a bad token; it is
kept with the click only while the newsletter counts per reader (and the
recorder drops it for a reader who opted out or was forgotten).
"""

from __future__ import annotations

import base64
import logging
import time
from collections import OrderedDict
from contextlib import asynccontextmanager

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digest.analytics.classify import Hit, network_of, read_headers
from digest.analytics.recorder import Recorder
from digest.flows.clicklinks import per_reader
from digest.models import Issue
from digest.models_clicks import ClickLink
from digest.render.links import READER_CHARS, click_key, read_link_token, read_reader_part

log = logging.getLogger(__name__)
CACHED_ISSUES = 512
CACHED_TOKENS = 65_536  # checked tokens kept (then all forgotten at once): a hit is a dict lookup, no HMAC
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")  # 1x1 transparent GIF
# The headers SecurityHeaders gives every page, and no caching: each follow is a request of its own.
NO_STORE = [(b"cache-control", b"no-store, private"), (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff")]
PLAIN = [*NO_STORE, (b"content-type", b"text/plain; charset=utf-8")]
NOT_FOUND = (404, PLAIN, b"This link is not valid.")


class Targets:
    """Each issue's links ({number: (kind, url)}), read from the database once per issue and kept (LRU)."""

    def __init__(self, sessions) -> None:
        self.sessions = sessions
        self.issues: OrderedDict[int, dict[int, tuple[str, str]]] = OrderedDict()
        self.newsletters: dict[int, str] = {}  # issue -> its newsletter, for as long as its links are kept

    def cached(self, issue_id: int) -> dict[int, tuple[str, str]] | None:
        links = self.issues.get(issue_id)
        if links is not None:
            self.issues.move_to_end(issue_id)
        return links

    def load(self, issue_id: int) -> dict[int, tuple[str, str]]:
        with self.sessions() as session:
            links = {number: (kind, url) for number, kind, url in session.execute(
                select(ClickLink.number, ClickLink.kind, ClickLink.url).where(ClickLink.issue_id == issue_id))}
            self.newsletters[issue_id] = session.scalar(select(Issue.newsletter).where(Issue.id == issue_id)) or ""
        self.issues[issue_id] = links
        while len(self.issues) > CACHED_ISSUES:
            self.newsletters.pop(self.issues.popitem(last=False)[0], None)
        return links


class Clicks:
    """The /r/ answer and the recorder behind it. `front` answers /r/ ahead of the page middleware (CSP,
    same-origin POSTs, body limits are for pages; a redirect needs none of them); `routes` lists it for the
    app's route table too; `lifespan` writes every queued click when the app stops."""

    def __init__(self, settings, sessions, client_ip, recorder: Recorder | None = None) -> None:
        secret = settings.site.secret_key
        self.key = click_key(secret) if secret else None  # no secret: no token could have been made
        self.targets, self.client_ip, self.home = Targets(sessions), client_ip, settings.site.base_url
        self.per_reader = {n.slug for n in settings.newsletters if per_reader(settings, n)}
        # token -> (issue, link number, reader or None). Only signed ones are kept, so a flood of forged
        # tokens fills nothing; each costs one HMAC, which (like every hashlib HMAC) lets other threads run.
        self.tokens: dict[str, tuple[int, int, int | None]] = {}
        self.recorder = recorder or Recorder(sessions)
        self.routes = [Route("/r/{token}", self.follow, methods=["GET", "HEAD"])]

    async def follow(self, request: Request) -> Response:
        status, headers, body = await self.answer(request.scope)
        return Response(body, status_code=status, headers={k.decode(): v.decode() for k, v in headers})

    async def answer(self, scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """(status, headers, body) for one request to /r/<token>."""
        if scope["method"] not in ("GET", "HEAD"):
            return 405, [*PLAIN, (b"allow", b"GET, HEAD")], b"Method Not Allowed"
        token = scope["path"][3:]
        found = self.tokens.get(token)
        if found is None:
            found = self.check(token)
            if found is None:
                return NOT_FOUND
            if len(self.tokens) >= CACHED_TOKENS:
                self.tokens.clear()
            self.tokens[token] = found
        issue_id, number, reader = found
        links = self.targets.cached(issue_id)
        if links is None:
            try:
                links = await run_in_threadpool(self.targets.load, issue_id)
            except SQLAlchemyError as exc:
                log.error("click on issue %d link %d not counted, reader sent to %s: the database is down (%s)",
                          issue_id, number, self.home, exc.__class__.__name__)
                return 302, [*NO_STORE, (b"location", self.home.encode())], b""
        target = links.get(number)
        if target is None:
            return NOT_FOUND
        kind, url = target
        if reader is not None and self.targets.newsletters.get(issue_id) not in self.per_reader:
            reader = None  # counted per reader no longer: the part is read (a forged one is a 404) and dropped
        prefetch, agent = read_headers(scope["headers"])
        self.recorder.add(Hit(issue_id, number, kind, time.time(), network_of(self.client_ip(Request(scope))),
                              head=scope["method"] == "HEAD", prefetch=prefetch, agent=agent, reader=reader))
        if kind == "open":
            return 200, [*NO_STORE, (b"content-type", b"image/gif")], PIXEL
        return 302, [*NO_STORE, (b"location", url.encode("utf-8"))], b""

    def check(self, token: str) -> tuple[int, int, int | None] | None:
        """(issue, link number, reader or None) of a token we signed (with its reader part, if any)."""
        if self.key is None:
            return None
        link, dot, part = token.partition(".")
        found = read_link_token(self.key, link) if not dot or len(part) == READER_CHARS else None
        if found is None:
            return None
        reader = read_reader_part(self.key, found[0], part) if dot else None
        return None if dot and reader is None else (*found, reader)

    def front(self, app):
        """Middleware: /r/ answered at once, everything else passed on."""
        async def serve(scope, receive, send) -> None:
            if scope["type"] != "http" or not scope["path"].startswith("/r/"):
                return await app(scope, receive, send)
            status, headers, body = await self.answer(scope)
            await send({"type": "http.response.start", "status": status,
                        "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        return serve

    @asynccontextmanager
    async def lifespan(self, app):
        """Nothing at start; at shutdown (SIGTERM too: uvicorn makes it one) every queued click is written."""
        try:
            yield
        finally:
            await run_in_threadpool(self.recorder.close)


__all__ = ["Clicks", "Targets"]
