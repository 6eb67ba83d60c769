"""The public signup endpoint's work, shaped so it can be no mail cannon and no oracle.

In the request, only what does not depend on the address's state: the
newsletter exists, the client's network is within its hourly budget (in the
database, shared by every process), the address is well formed. Everything
else (the subscription row, the mailbox and site budgets, the token, the
confirmation email) runs on a small background pool, so the answer, its
status and its timing are the same for a new, a pending, a confirmed and an
unsubscribed address. The pool's queue is bounded: a flood is refused at the
door with 503 rather than queued without end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError, OperationalError

from digest.flows import notices
from digest.settings import Settings
from digest.errors import DeliveryError
from digest.render.i18n import N_
from digest.web.words import say, voice_of
from subscribers import InvalidAddress, Origin, normalize_address, purge_unconfirmed, request_signup
from subscribers.limits import network_key, take

log = logging.getLogger(__name__)

# English msgids; submit() answers in the newsletter's language (the site's for an unknown newsletter).
THANKS = N_("Thank you for signing up for this newsletter. We\u2019ve sent you a confirmation email.")
BAD_ADDRESS = N_("Please, enter correct email address")
TOO_MANY = N_("Too many signup attempts from your network. Please try again later.")
BUSY = N_("We are receiving very many signups just now. Please try again in a few minutes.")
NO_SUCH = N_("There is no such newsletter.")
ATTEMPTS = 4  # concurrent first signups of one address, or SQLite's writer lock, can make a transaction lose
# A signup never confirmed is forgotten this long after its last link expired (address, IP, user agent).
UNCONFIRMED_KEPT = timedelta(days=7)


class SignupDesk:
    """Answers signups at once and does the work in the background (`run`: a test may run it inline)."""

    def __init__(self, settings: Settings, sessions, transport_factory, env, now: Callable[[], datetime],
                 run: Callable[[Callable[[], None]], object] | None = None, max_waiting: int = 1000) -> None:
        self.settings, self.sessions, self.transport_factory, self.env, self.now = (
            settings, sessions, transport_factory, env, now)
        self.newsletters = {n.slug: n for n in settings.newsletters}
        self._run = run or ThreadPoolExecutor(max_workers=2, thread_name_prefix="signups").submit
        self._waiting = threading.BoundedSemaphore(max_waiting)
        self._purged_at: datetime | None = None

    def submit(self, address: str, slug: str, who: Origin, honeypot: str
               ) -> tuple[int, str, Callable[[], None] | None]:
        """(HTTP status, message for the reader in the newsletter's language, what to start once the answer has
        gone out).

        The caller runs the third after sending the response (a Starlette
        BackgroundTask), so not even the start of the state-dependent work
        competes with the answer for the CPU.
        """
        status, message, later = self._answer(address, slug, who, honeypot)
        return status, say(voice_of(self.settings, slug), message), later

    def _answer(self, address: str, slug: str, who: Origin, honeypot: str
                ) -> tuple[int, str, Callable[[], None] | None]:
        if slug not in self.newsletters:
            return 404, NO_SUCH, None
        try:
            email = normalize_address(address)
        except InvalidAddress:
            return 400, BAD_ADDRESS, None
        if not self.network_allowed(who.ip):
            return 429, TOO_MANY, None
        if honeypot:
            log.info("honeypot filled from %s; nothing done", who.ip)
            return 200, THANKS, None
        if not self._waiting.acquire(blocking=False):
            log.warning("signup queue full; refusing a signup from %s", who.ip)
            return 503, BUSY, None
        return 200, THANKS, lambda: self._run(lambda: self._work(email, slug, who))

    def background(self, job: Callable[[], None]) -> Callable[[], None]:
        """Start `job` on the signup pool once the answer has gone out (the same for every address)."""
        return lambda: self._run(job)

    def network_allowed(self, ip: str) -> bool:
        """This network's signup budget (shared with "email me my link"): True when one more may go."""
        with self.sessions() as session, session.begin():
            return take(session, f"signup-net:{network_key(ip)}", self.settings.web.signups_per_ip_per_hour,
                        self.now())

    def _work(self, email: str, slug: str, who: Origin) -> None:
        try:
            result = self._request(email, slug, who)
            if result is not None and result.token:
                web = self.settings.web
                notices.send_confirmation(self.transport_factory(), self.env, self.settings.site,
                                           self.newsletters[slug], result.email, result.token, now=self.now(),
                                           ttl_hours=web.token_ttl_hours, bounces=self.settings.bounces)
        except DeliveryError as exc:
            log.error("confirmation email to %s failed (they may sign up again): %s", email, exc)
        except Exception:  # the background must survive anything one signup throws
            log.exception("signup of %s for %s failed", email, slug)
        finally:
            self._waiting.release()
        self._purge_now_and_then()

    def _purge_now_and_then(self) -> None:
        """At most hourly per process, on the signup path: every site that takes signups cleans up."""
        now = self.now()
        if self._purged_at is not None and now - self._purged_at < timedelta(hours=1):
            return
        self._purged_at = now
        before = now - timedelta(hours=self.settings.web.token_ttl_hours) - UNCONFIRMED_KEPT
        try:
            with self.sessions() as session, session.begin():
                purged = purge_unconfirmed(session, before)
        except (IntegrityError, OperationalError) as exc:
            log.warning("forgetting unconfirmed signups failed (next time): %s", exc)
            return
        if purged:
            log.info("forgot %d signup(s) never confirmed", purged)

    def _request(self, email: str, slug: str, who: Origin):
        web = self.settings.web
        for attempt in range(ATTEMPTS):
            try:
                with self.sessions() as session, session.begin():
                    return request_signup(session, email, slug, who, now=self.now(),
                                          ttl=timedelta(hours=web.token_ttl_hours),
                                          max_per_hour=web.confirmations_per_address_per_hour,
                                          site_per_hour=web.confirmations_per_hour)
            except (IntegrityError, OperationalError):
                if attempt == ATTEMPTS - 1:
                    raise
        return None
