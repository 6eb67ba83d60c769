"""The reader's own page: every newsletter of the site, subscribe or leave each, a pause, leave everything.

Reached from the link in every digest's footer and welcome mail (the same
sealed token as the unsubscribe link: it proves the address and reads as
noise). GET only shows; each change is a POST of one form, carrying the token
and a CSRF field bound to it, from our own origin (guards.SameOriginPosts).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from digest.settings import Settings
from subscribers import Origin, SubscriberError
from subscribers import preferences as prefs

ACTIONS = ("subscribe", "leave", "pause", "resume", "leave_everything")


def csrf_field(secret: str, token: str) -> str:
    """Bound to the reader's token: a form from elsewhere cannot carry it without the token itself."""
    return hmac.new(hashlib.sha256(b"digest preferences csrf\0" + secret.encode()).digest(), token.encode(),
                    "sha256").hexdigest()[:32]


def preference_routes(settings: Settings, sessions, page: Callable[..., Response], secret: Callable[[], str],
                      origin: Callable[[Request], Origin], now: Callable[[], datetime]) -> list[Route]:
    titles = {n.slug: n.title for n in settings.newsletters}
    order = [n.slug for n in settings.newsletters]

    def show(token: str, done: str = "", status: int = 200, error: str = "") -> Response:
        try:
            with sessions() as session:
                reader = prefs.reader_from_link(session, secret(), token)
                rows = prefs.choices(session, reader, order, now())
                email = reader.email
        except SubscriberError as exc:
            return page("message.html", 400, title="Link not valid", message=str(exc))
        return page("preferences.html", status, token=token, csrf=csrf_field(secret(), token), reader_email=email,
                    rows=rows, titles=titles, weeks=prefs.PAUSE_WEEKS, done=done, error=error)

    def change(token: str, form: dict, who: Origin) -> Response:
        if not hmac.compare_digest(form.get("csrf", ""), csrf_field(secret(), token)):
            return page("message.html", 403, title="Please try again",
                        message="This form was not sent from your preferences page. Open the link in your email again.")
        action, slug = form.get("action", ""), form.get("newsletter", "")
        if action not in ACTIONS or (action != "leave_everything" and slug not in titles):
            return show(token, status=400, error="That is not a choice on this page.")
        try:
            with sessions() as session, session.begin():
                reader = prefs.reader_from_link(session, secret(), token)
                at = now()
                if action == "subscribe":
                    prefs.subscribe(session, reader, slug, who, at)
                    done = f"You are subscribed to {titles[slug]}."
                elif action == "leave":
                    prefs.leave(session, reader, slug, who, at)
                    done = f"You will not receive {titles[slug]} any more."
                elif action == "pause":
                    until = prefs.pause(session, reader, slug, _weeks(form.get("weeks", "")), who, at)
                    done = (f"{titles[slug]} is paused until {until:%A} {until.day} {until:%B %Y}; it starts again by "
                            "itself then.")
                elif action == "resume":
                    prefs.resume(session, reader, slug, who, at)
                    done = f"{titles[slug]} is no longer paused: you receive the next issue."
                else:
                    left = prefs.leave_everything(session, reader, who, at)
                    done = "You are unsubscribed from every newsletter." if left else \
                        "You were not subscribed to any newsletter."
        except SubscriberError as exc:
            return show(token, status=400, error=str(exc))
        return show(token, done=done)

    async def preferences_route(request: Request) -> Response:
        token = request.path_params["token"]
        if request.method != "POST":  # GET and HEAD change nothing: scanners open links
            return await run_in_threadpool(show, token)
        form = {k: str(v) for k, v in (await request.form()).items()}
        return await run_in_threadpool(change, token, form, origin(request))

    async def by_query(request: Request) -> Response:
        """`/preferences?token=...`: the digest footer's link is the unsubscribe link's token with this path."""
        return RedirectResponse(f"/preferences/{request.query_params.get('token', '')}", status_code=303)

    return [Route("/preferences", by_query), Route("/preferences/{token}", preferences_route, methods=["GET", "POST"])]


def _weeks(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
