"""The reader's own page: every newsletter of the site, subscribe or leave each, a pause, leave everything.

Reached from the link in every digest's footer and welcome mail (the same
sealed token as the unsubscribe link: it proves the address and reads as
noise). GET only shows; each change is a POST of one form, carrying the token
and a CSRF field bound to it, from our own origin (guards.SameOriginPosts).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from digest import compose
from digest.analytics import readers as click_readers
from digest.errors import DeliveryError
from digest.flows.clicklinks import per_reader
from digest.flows import notices
from digest.render.i18n import N_, long_date
from digest.settings import Settings
from digest.web.signup import BAD_ADDRESS, TOO_MANY, SignupDesk
from digest.web.words import say, voice_of
from subscribers import InvalidAddress, Origin, SubscriberError, make_unsubscribe_token, normalize_address
from subscribers import read_unsubscribe_token
from subscribers import SubscriptionStatus, address
from subscribers import preferences as prefs
from subscribers.limits import mailbox_key, take

log = logging.getLogger(__name__)
# The same answer whether or not we hold the address (no enumeration), as for a signup.
LINK_SENT = N_("If this address is subscribed to any of our newsletters, we\u2019ve sent it a link to manage them.")

ACTIONS = ("subscribe", "leave", "pause", "resume", "leave_everything", "plain_text", "html", "change_address",
           "sections", "frequency", "clicks_total", "clicks_mine")
SITE_WIDE = ("leave_everything", "change_address", "clicks_total", "clicks_mine")


def csrf_field(secret: str, token: str) -> str:
    """Bound to the reader's token: a form from elsewhere cannot carry it without the token itself."""
    return hmac.new(hashlib.sha256(b"digest preferences csrf\0" + secret.encode()).digest(), token.encode(),
                    "sha256").hexdigest()[:32]


def preference_routes(settings: Settings, sessions, page: Callable[..., Response], secret: Callable[[], str],
                      origin: Callable[[Request], Origin], now: Callable[[], datetime], desk: SignupDesk,
                      transport_factory, env) -> list[Route]:
    titles = {n.slug: n.title for n in settings.newsletters}
    ttl = timedelta(hours=settings.web.token_ttl_hours)
    by_slug = {n.slug: n for n in settings.newsletters}
    order = [n.slug for n in settings.newsletters]
    offered = {n.slug: compose.section_titles(n) for n in settings.newsletters}  # what a reader may choose from
    counts_readers = any(per_reader(settings, n) for n in settings.newsletters)  # analytics.per_reader anywhere

    def slug_of(token: str) -> str:
        """The newsletter the reader's link came from: the page speaks its language (the site's if none)."""
        try:
            return read_unsubscribe_token(secret(), token)[1]
        except SubscriberError:
            return ""

    def show(token: str, done: str = "", status: int = 200, error: str = "") -> Response:
        try:
            with sessions() as session:
                reader = prefs.reader_from_link(session, secret(), token)
                rows = prefs.choices(session, reader, order, now())
                email = reader.email
                clicks = {"counted": not click_readers.opted_out(session, reader.id),
                          "days": settings.analytics.retention_days} if counts_readers else None
        except SubscriberError as exc:
            return page("message.html", 400, title=N_("Link not valid"), message=str(exc))
        slug = slug_of(token)
        response = page("preferences.html", status, slug=slug, token=token, csrf=csrf_field(secret(), token),
                        reader_email=email, rows=rows, titles=titles, weeks=prefs.PAUSE_WEEKS, done=done,
                        error=say(voice_of(settings, slug), error) if error else "",
                        offered=offered, roundups={n.slug for n in settings.newsletters if n.roundup_schedule},
                        clicks=clicks)
        response.headers["Cache-Control"] = "no-store"  # a reader's address and choices: no shared cache keeps them
        return response

    def change(token: str, form: dict, who: Origin) -> Response:
        if not hmac.compare_digest(form.get("csrf", ""), csrf_field(secret(), token)):
            return page("message.html", 403, slug=slug_of(token), title=N_("Please try again"), message=N_(
                "This form was not sent from your preferences page. Open the link in your email again."))
        action, slug = form.get("action", ""), form.get("newsletter", "")
        if action not in ACTIONS or (action not in SITE_WIDE and slug not in titles):
            return show(token, status=400, error=N_("That is not a choice on this page."))
        voice = voice_of(settings, slug_of(token))

        def said(text: str, **values) -> str:
            return say(voice, text, **values)

        try:
            with sessions() as session, session.begin():
                reader = prefs.reader_from_link(session, secret(), token)
                at = now()
                if action == "subscribe":
                    prefs.subscribe(session, reader, slug, who, at)
                    done = said(N_("You are subscribed to %(newsletter)s."), newsletter=titles[slug])
                elif action == "leave":
                    prefs.leave(session, reader, slug, who, at)
                    done = said(N_("You will not receive %(newsletter)s any more."), newsletter=titles[slug])
                elif action == "pause":
                    until = prefs.pause(session, reader, slug, _weeks(form.get("weeks", "")), who, at)
                    done = said(N_("%(newsletter)s is paused until %(date)s; it starts again by itself then."),
                                newsletter=titles[slug], date=long_date(until, voice[0]))
                elif action == "change_address":
                    if not take(session, f"prefs-move:{reader.id}", settings.web.confirmations_per_address_per_hour, at):
                        raise SubscriberError(N_("You asked for this several times in the last hour. "
                                                 "Please try later."))
                    new, move_token = address.request_move(session, secret(), reader, form.get("new_email", ""))
                    slug = first_newsletter(session, reader)
                    done = said(N_("We sent a link to %(address)s. Your newsletters go there once you open it and "
                                   "confirm; until then nothing changes."), address=new)
                    move_mail = (new, move_token, slug)
                elif action in ("plain_text", "html"):
                    prefs.set_plain_text(session, reader, slug, action == "plain_text", who, at)
                    done = said(N_("%(newsletter)s comes as plain text only from the next issue.") if action ==
                                "plain_text" else N_("%(newsletter)s comes as the full email from the next issue."),
                                newsletter=titles[slug])
                elif action == "sections":
                    prefs.set_sections(session, reader, slug, form.get("section", []), offered[slug], who, at)
                    done = said(N_("Your sections of %(newsletter)s are saved: they apply from the next issue."),
                                newsletter=titles[slug])
                elif action == "frequency":
                    if not by_slug[slug].roundup_schedule:
                        raise SubscriberError(said(N_("%(newsletter)s has no weekly roundup."),
                                                   newsletter=titles[slug]))
                    prefs.set_frequency(session, reader, slug, form.get("frequency", ""), who, at)
                    weekly = form.get("frequency") == prefs.WEEKLY
                    done = said(N_("You receive %(newsletter)s as a weekly roundup.") if weekly else
                                N_("You receive %(newsletter)s with every issue."), newsletter=titles[slug])
                elif action in ("clicks_total", "clicks_mine"):
                    click_readers.set_counted(session, reader.id, action == "clicks_mine", at)
                    done = said(N_("From the next issue your clicks are tied to you again.") if action ==
                                "clicks_mine" else N_("From the next issue your links are the same as everyone's: "
                                                      "your clicks count only in totals."))
                elif action == "resume":
                    prefs.resume(session, reader, slug, who, at)
                    done = said(N_("%(newsletter)s is no longer paused: you receive the next issue."),
                                newsletter=titles[slug])
                else:
                    left = prefs.leave_everything(session, reader, who, at)
                    done = said(N_("You are unsubscribed from every newsletter.") if left else
                                N_("You were not subscribed to any newsletter."))
        except SubscriberError as exc:
            return show(token, status=400, error=str(exc))
        if action == "change_address":  # mailed after the commit: a failed send leaves nothing half done
            new, move_token, slug = move_mail
            try:
                notices.send_address_confirmation(
                    transport_factory(), env, settings.site, by_slug[slug], new,
                    f"{settings.site.base_url.rstrip('/')}/preferences/move?token={move_token}"  # its page speaks
                    f"&newsletter={quote(slug)}", now=now(),  # this newsletter's language
                    ttl_hours=settings.web.token_ttl_hours, bounces=settings.bounces)
            except DeliveryError as exc:
                log.error("address confirmation to %s failed: %s", new, exc)
                return show(token, status=503, error=N_("We could not send the email just now. Please try again."))
        return show(token, done=done)

    async def preferences_route(request: Request) -> Response:
        token = request.path_params["token"]
        if request.method != "POST":  # GET and HEAD change nothing: scanners open links
            moved = N_("Your newsletters now come to this address.") if request.query_params.get("moved") else ""
            moved = say(voice_of(settings, slug_of(token)), moved) if moved else ""
            return await run_in_threadpool(show, token, moved)
        sent = await request.form()
        form: dict = {k: str(v) for k, v in sent.items()}
        form["section"] = [str(v) for v in sent.getlist("section")][:100]  # the checked sections
        return await run_in_threadpool(change, token, form, origin(request))

    def mail_link(email: str) -> None:
        """In the background, after the same answer for everyone: only a held, unsuppressed address gets mail,
        at most web.confirmations_per_address_per_hour times an hour."""
        try:
            with sessions() as session, session.begin():
                found = prefs.link_subject(session, email)
                if found is None or not take(session, f"prefs-link:{mailbox_key(email)}",
                                             settings.web.confirmations_per_address_per_hour, now()):
                    return
            subscriber_id, slug = found
            url = f"{settings.site.base_url.rstrip('/')}/preferences/{make_unsubscribe_token(secret(), subscriber_id, slug)}"
            notices.send_preferences_link(transport_factory(), env, settings.site, by_slug[slug], email, url,
                                          now=now(), bounces=settings.bounces)
        except DeliveryError as exc:
            log.error("preferences link to %s failed: %s", email, exc)
        except Exception:  # the background must survive anything one request throws
            log.exception("preferences link to %s failed", email)

    async def link_route(request: Request) -> Response:
        """"Email me my link" on the signup page: rate-limited like a signup, the same answer for any address."""
        form = await request.form()
        address, who = str(form.get("email", "")), origin(request)
        slug = str(form.get("newsletter", ""))  # asked on one newsletter's own page: answer there, in its language
        here = {"slug": slug, "newsletters": [by_slug[slug]], "single": slug} if slug in by_slug else {}
        voice = voice_of(settings, slug)
        try:
            email = normalize_address(address)
        except InvalidAddress:
            return page("signup.html", 400, link_reply=(400, say(voice, BAD_ADDRESS)), link_email=address, **here)
        if not await run_in_threadpool(desk.network_allowed, who.ip):
            return page("signup.html", 429, link_reply=(429, say(voice, TOO_MANY)), **here)
        response = page("signup.html", link_reply=(200, say(voice, LINK_SENT)), **here)
        if not form.get("website"):  # the honeypot: a bot gets the same answer and nothing else
            response.background = BackgroundTask(desk.background(lambda: mail_link(email)))
        return response

    def move_page(token: str, slug: str) -> Response:
        """In the language of the newsletter whose mail brought the link (it names it), even when it expired."""
        try:
            with sessions() as session:
                _reader, old, new = address.read_move(session, secret(), token, ttl)
        except SubscriberError as exc:
            return page("message.html", 400, slug=slug, title=N_("Link not valid"), message=str(exc))
        return page("move.html", slug=slug, token=token, old=address.masked(old), new=new, move_from=slug)

    def do_move(token: str, who: Origin, slug: str) -> Response:
        try:
            with sessions() as session, session.begin():
                reader, old = address.move(session, secret(), token, who, now(), ttl)
                slug = first_newsletter(session, reader)
                link = make_unsubscribe_token(secret(), reader.id, slug)
                new = reader.email
        except SubscriberError as exc:
            return page("message.html", 400, slug=slug, title=N_("Not changed"), message=str(exc))
        try:
            notices.send_address_moved(transport_factory(), env, settings.site, by_slug[slug], old,
                                       address.masked(new), now=now(), bounces=settings.bounces)
        except DeliveryError as exc:  # the move stands; the old mailbox may be gone, which is often why
            log.warning("telling %s about the move failed: %s", old, exc)
        return RedirectResponse(f"{preferences_path(link)}?moved=1", status_code=303)

    async def move_route(request: Request) -> Response:
        if request.method != "POST":  # scanners open links: only the button moves anything
            return await run_in_threadpool(move_page, request.query_params.get("token", ""),
                                           known(request.query_params.get("newsletter", "")))
        form = await request.form()
        return await run_in_threadpool(do_move, str(form.get("token", "")), origin(request),
                                       known(str(form.get("newsletter", ""))))

    def known(slug: str) -> str:
        return slug if slug in by_slug else ""

    def first_newsletter(session, reader) -> str:
        """The newsletter a reader's one-off mail comes from: one they receive, else one they ever had."""
        mine = {s.newsletter: s.status for s in prefs.held(session, reader)}
        confirmed = [slug for slug in order if mine.get(slug) is SubscriptionStatus.confirmed]
        return (confirmed or [slug for slug in order if slug in mine] or order)[0]

    async def by_query(request: Request) -> Response:
        """`/preferences?token=...`: the digest footer's link is the unsubscribe link's token with this path."""
        return RedirectResponse(preferences_path(request.query_params.get("token", "")), status_code=303)

    return [Route("/preferences", by_query), Route("/preferences/link", link_route, methods=["POST"]),
            Route("/preferences/move", move_route, methods=["GET", "POST"]),
            Route("/preferences/{token}", preferences_route, methods=["GET", "POST"])]


def preferences_path(token: str) -> str:
    """The reader's page for a token from outside (a query string): quoted whole, so "../admin" or "x?y" stays
    one path segment under /preferences/."""
    return f"/preferences/{quote(token[:2000], safe='')}"


def _weeks(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
