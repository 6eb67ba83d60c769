"""How a reader page is answered: in the reader's language, under our content policy, errors included.

Starlette answers an unknown path (404), a method a route does not take
(405: a reader reopening /subscribe from the address bar) and a crash (500)
in English plain text; the guards refused cross-site POSTs and oversized
bodies the same way. A reader meets these, so they get a page like any other,
in the language of the newsletter the path names (/newsletters/<slug>,
/embed/<slug>, /issues/<slug>/...), else the site's. The operator's console,
the REST API (its problem+json) and the ops endpoints keep the plain English
answers: they are not read by readers.
"""

from __future__ import annotations

import logging
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from digest.render.html import render_template
from digest.render.i18n import N_
from digest.settings import Settings
from digest.web.words import page_words

log = logging.getLogger(__name__)

# Reader pages: our own inline CSS, the one inline script by nonce, forms only to us, framed only when embedded.
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; connect-src 'self'; "
            "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors {frames}")
NOT_FOR_READERS = ("/admin/", "/api/", "/healthz", "/status", "/metrics")  # English, as Starlette answers
NAMING = ("newsletters", "embed", "issues")  # /<one of these>/<slug>...: the path names a newsletter
ERRORS = {  # status: (title, message), English msgids
    404: (N_("Not found"), N_("There is no such page.")),
    405: (N_("This page opens from a form"),
          N_("This address works only when a form on our pages sends it. Please start again from our page.")),
    403: (N_("Please try again"), N_("This form was sent from another website. Please use the form on our pages.")),
    413: (N_("Please try again"), N_("What you sent is too large.")),
    500: (N_("Something went wrong"), N_("We could not finish this just now. Please try again in a few minutes.")),
}
OTHER = (N_("Please try again"), N_("We could not read what your browser sent. Please go back and try again."))


class Pages:
    """`page` renders templates/web/<name> for newsletter `slug`'s readers; `handlers` are the app's exception
    handlers and `refusal` the guards' answer, both pages for readers and Starlette's plain text for the rest."""

    def __init__(self, settings: Settings, env, frame_ancestors: str) -> None:
        self.settings, self.env, self.frame_ancestors = settings, env, frame_ancestors
        self.slugs = {n.slug for n in settings.newsletters}
        self.handlers = {HTTPException: self.http_error, Exception: self.server_error}

    def page(self, name: str, status: int = 200, *, slug: str = "", values: dict | None = None,
             **context) -> Response:
        """A reader page in newsletter `slug`'s language (the site's when none): words.page_words."""
        nonce = secrets.token_urlsafe(16)  # the one inline script runs; nothing injected could
        context = {"site": self.settings.site.for_templates(), "newsletters": self.settings.newsletters,
                   "messages": {}, "email": "", "newsletter": None, "csp_nonce": nonce, "link_reply": None,
                   "link_email": "", "single": "", **context,
                   **page_words(self.settings, slug, context, values)}
        policy = PAGE_CSP.format(nonce=nonce, frames=self.frame_ancestors if name == "embed.html" else "'none'")
        return HTMLResponse(render_template(self.env, f"web/{name}", context), status_code=status,
                            headers={"Content-Security-Policy": policy})

    def for_readers(self, path: str) -> bool:
        return not (path == "/admin" or path.startswith(NOT_FOR_READERS))

    def slug_in(self, path: str) -> str:
        """The newsletter a reader's path names, or "" (the site's language then)."""
        parts = path.split("/", 3)
        return parts[2] if len(parts) > 2 and parts[1] in NAMING and parts[2] in self.slugs else ""

    def error(self, path: str, status: int, headers: dict | None = None) -> Response:
        title, message = ERRORS.get(status, OTHER)
        response = self.page("message.html", status, slug=self.slug_in(path), title=title, message=message)
        response.headers.update(headers or {})
        return response

    def refusal(self, path: str, status: int, english: str) -> Response:
        """The guards' refusals (403 cross-site, 413 too large): a page for readers, `english` for the rest."""
        return self.error(path, status) if self.for_readers(path) else PlainTextResponse(english, status)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in (204, 304):
            return Response(status_code=exc.status_code, headers=exc.headers)
        if not self.for_readers(request.url.path):
            return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
        return self.error(request.url.path, exc.status_code, exc.headers)

    async def server_error(self, request: Request, exc: Exception) -> Response:
        """After a crash (Starlette logs it and re-raises after this answer): never a crash of its own."""
        if self.for_readers(request.url.path):
            try:
                return self.error(request.url.path, 500)
            except Exception:  # a template that cannot render is maybe the crash itself
                log.exception("the error page for %s could not be rendered", request.url.path)
        return PlainTextResponse("Internal Server Error", status_code=500)
