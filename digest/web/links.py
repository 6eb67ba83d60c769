"""The links readers follow from their mail: confirm a signup, ask for a new confirmation link, unsubscribe
(the page, the one-click POST of RFC 8058, the undo).

Each answers in the language of the newsletter the link is for; a GET only
shows a page with a button (mail scanners open links), the button's POST
acts. The service work is synchronous, so each handler runs in the thread pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from digest.errors import DeliveryError
from digest.flows import notices
from digest.render.i18n import N_
from digest.settings import Settings
from digest.web.preferences import preferences_path
from digest.web.words import say, voice_of
from subscribers import (
    Origin,
    RateLimited,
    SubscriberError,
    SubscriptionStatus,
    TokenExpired,
    confirm_signup,
    make_unsubscribe_token,
    peek_confirmation,
    renew_expired,
    subscription_from_link,
    undo_unsubscribe,
    unsubscribe_by_link,
)
from subscribers.tokens import find_token, read_unsubscribe_token

log = logging.getLogger(__name__)

SEND_FAILED = N_("We could not send the confirmation email just now. Please try again in a few minutes.")


def link_routes(settings: Settings, sessions, page: Callable[..., Response], secret: Callable[[], str],
                origin: Callable[[Request], Origin], now: Callable[[], datetime], transport_factory,
                env) -> list[Route]:
    """/confirm, /confirm/renew, /unsubscribe and /unsubscribe/undo; `page` renders a reader page
    (pages.Pages.page), `secret` gives the site's key or refuses."""
    web = settings.web
    ttl = timedelta(hours=web.token_ttl_hours)
    newsletters = {n.slug: n for n in settings.newsletters}

    def confirm_page(token: str) -> Response:
        try:
            with sessions() as session:
                subscription = peek_confirmation(session, token, now=now())
                title = newsletters_title(subscription.newsletter)
                confirmed = subscription.status is SubscriptionStatus.confirmed
        except TokenExpired:
            return page("expired.html", 410, slug=newsletter_of(token), token=token)
        except SubscriberError as exc:
            return page("message.html", 400, slug=newsletter_of(token), title=N_("Link not valid"), message=str(exc))
        slug = subscription.newsletter
        if confirmed:
            return page("message.html", slug=slug, title=N_("Successfully subscribed"),
                        message=N_("You are subscribed to %(newsletter)s."), values={"newsletter": title})
        return page("confirm.html", slug=slug, token=token, newsletter_title=title)

    def newsletters_title(slug: str) -> str:
        return newsletters[slug].title if slug in newsletters else slug

    def newsletter_of(token: str) -> str:
        """The newsletter a confirmation link is for, used or expired ("" if none): its pages speak its language."""
        try:
            with sessions() as session:
                return find_token(session, token).subscription.newsletter
        except SubscriberError:
            return ""

    def confirm(token: str, who: Origin) -> Response:
        try:
            with sessions() as session, session.begin():
                subscription, newly = confirm_signup(session, token, who, now=now())
                slug, email, subscriber_id = subscription.newsletter, subscription.subscriber.email, \
                    subscription.subscriber_id
        except TokenExpired:
            return page("expired.html", 410, slug=newsletter_of(token), token=token)
        except SubscriberError as exc:
            return page("message.html", 400, slug=newsletter_of(token), title=N_("Link not valid"), message=str(exc))
        newsletter = newsletters.get(slug)
        if newly and newsletter and newsletter.welcome_email and settings.site.secret_key:
            link = unsubscribe_link(subscriber_id, slug)
            try:
                notices.send_welcome(transport_factory(), env, settings.site, newsletter, email, link, now=now(),
                                      bounces=settings.bounces)
            except DeliveryError as exc:
                log.error("welcome email to %s failed: %s", email, exc)
        return page("message.html", slug=slug, title=N_("Successfully subscribed"), values={
            "newsletter": newsletters_title(slug)}, message=N_("You are subscribed to %(newsletter)s. Your first issue "
                                                               "arrives with the next edition."))

    def unsubscribe_link(subscriber_id: int, slug: str) -> str:
        token = make_unsubscribe_token(secret(), subscriber_id, slug)
        return f"{settings.site.base_url.rstrip('/')}/unsubscribe?token={token}"

    def renew(token: str, who: Origin) -> Response:
        try:
            with sessions() as session, session.begin():
                result = renew_expired(session, token, who, now=now(), ttl=ttl,
                                       max_per_hour=web.confirmations_per_address_per_hour)
        except RateLimited as exc:
            return page("message.html", 429, slug=newsletter_of(token), title=N_("Check your inbox"), message=str(exc))
        except SubscriberError as exc:
            return page("message.html", 400, slug=newsletter_of(token), title=N_("Link not valid"), message=str(exc))
        try:
            notices.send_confirmation(transport_factory(), env, settings.site, newsletters[result.newsletter],
                                         result.email, result.token, now=now(), ttl_hours=web.token_ttl_hours,
                                         bounces=settings.bounces)
        except (DeliveryError, KeyError) as exc:
            log.error("confirmation email to %s failed: %s", result.email, exc)
            return page("message.html", 503, slug=result.newsletter, title=N_("Please try again"),
                        message=SEND_FAILED)
        return page("message.html", slug=result.newsletter, title=N_("Check your inbox"),
                    message=N_("We\u2019ve sent you a new confirmation email."))

    def unsubscribe_page(token: str) -> Response:
        try:
            with sessions() as session:
                slug = subscription_from_link(session, secret(), token).newsletter
        except SubscriberError as exc:
            return page("message.html", 400, slug=named_in(token), title=N_("Link not valid"), message=str(exc))
        return page("unsubscribe.html", slug=slug, token=token, newsletter_title=newsletters_title(slug))

    def named_in(token: str) -> str:
        """The newsletter a genuine unsubscribe link names, held or not ("" for any other token)."""
        try:
            return read_unsubscribe_token(secret(), token)[1]
        except SubscriberError:
            return ""

    def unsubscribe(token: str, who: Origin, one_click: bool) -> Response:
        try:
            with sessions() as session, session.begin():
                subscription, undo_token = unsubscribe_by_link(session, secret(), token, who, now=now())
                slug = subscription.newsletter
        except SubscriberError as exc:
            if one_click:
                voice = voice_of(settings, named_in(token))
                return PlainTextResponse(say(voice, str(exc)), status_code=400, headers={"Content-Language": voice[0]})
            return page("message.html", 400, slug=named_in(token), title=N_("Link not valid"), message=str(exc))
        if one_click:  # the List-Unsubscribe landing text, in the newsletter's language
            voice = voice_of(settings, slug)
            text = say(voice, N_("Unsubscribed from %(newsletter)s."), newsletter=newsletters_title(slug))
            return PlainTextResponse(text, headers={"Content-Language": voice[0]})
        return page("unsubscribed.html", slug=slug, undo_token=undo_token, newsletter_title=newsletters_title(slug),
                    token=token, undo_from=slug)

    def undo(token: str, who: Origin, named: str) -> Response:
        """`named`: the newsletter the undo form names (its language for a refusal, if it is one of ours)."""
        try:
            with sessions() as session, session.begin():
                slug = undo_unsubscribe(session, secret(), token, who, now=now()).newsletter
                title = newsletters_title(slug)
        except SubscriberError as exc:
            return page("message.html", 400, slug=named if named in newsletters else "", title=N_("Link not valid"),
                        message=str(exc))
        return page("message.html", slug=slug, title=N_("Successfully subscribed"), values={"newsletter": title},
                    message=N_("You are subscribed to %(newsletter)s again."))

    async def confirm_route(request: Request) -> Response:
        if request.method != "POST":  # GET and HEAD: link scanners open links; only the button's POST acts
            return await run_in_threadpool(confirm_page, request.query_params.get("token", ""))
        form = await request.form()
        return await run_in_threadpool(confirm, str(form.get("token", "")), origin(request))

    async def renew_route(request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(renew, str(form.get("token", "")), origin(request))

    async def unsubscribe_route(request: Request) -> Response:
        token = request.query_params.get("token", "")
        if request.method != "POST" and request.query_params.get("view") == "preferences":  # the digest footer's
            return RedirectResponse(preferences_path(token), status_code=303)  # "Manage your subscriptions"
        if request.method != "POST":  # GET and HEAD change nothing
            return await run_in_threadpool(unsubscribe_page, token)
        form = await request.form()
        token = str(form.get("token", "")) or token
        one_click = form.get("List-Unsubscribe") == "One-Click"  # RFC 8058: the mail provider's POST
        return await run_in_threadpool(unsubscribe, token, origin(request), one_click)

    async def undo_route(request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(undo, str(form.get("token", "")), origin(request),
                                       str(form.get("newsletter", "")))

    return [Route("/confirm", confirm_route, methods=["GET", "POST"]),
            Route("/confirm/renew", renew_route, methods=["POST"]),
            Route("/unsubscribe", unsubscribe_route, methods=["GET", "POST"]),
            Route("/unsubscribe/undo", undo_route, methods=["POST"])]
