"""The signup flow's one-off emails (confirmation, welcome): built by render.notice, sent by deliver.notify.

They sit beside the issue flows, not in them: the web app and the command line
send them as a reader acts, outside any issue and its outbox. With
bounces.domain set they leave with a return path signed for their
recipient, so a confirmation that bounces counts like any other bounce.
"""

from __future__ import annotations

from datetime import datetime

from digest.settings import NewsletterSettings, SiteSettings
from digest.deliver import notify
from digest.deliver.transports import Transport
from digest.errors import DeliveryError
from digest.render import notice


def send_confirmations(transport: Transport, env, site: SiteSettings, newsletter: NewsletterSettings,
                       pairs: list[tuple[str, str]], *, now: datetime, ttl_hours: int, bounces=None) -> list[str]:
    """Mail each (address, token) its confirmation link over one connection; returns the failures."""
    messages = [(to, notice.confirmation_email(env, site, newsletter, to, token, now=now, ttl_hours=ttl_hours))
                for to, token in pairs]
    return notify.send_messages(transport, newsletter.from_address, messages, bounces=bounces, secret=site.secret_key)


def send_confirmation(transport: Transport, env, site: SiteSettings, newsletter: NewsletterSettings, to: str,
                      token: str, *, now: datetime, ttl_hours: int, bounces=None) -> None:
    failures = send_confirmations(transport, env, site, newsletter, [(to, token)], now=now, ttl_hours=ttl_hours,
                                  bounces=bounces)
    if failures:
        raise DeliveryError(failures[0])


def send_welcome(transport: Transport, env, site: SiteSettings, newsletter: NewsletterSettings, to: str,
                 unsubscribe_url: str, *, now: datetime, bounces=None) -> None:
    _send_one(transport, site, newsletter, to, notice.welcome_email(env, site, newsletter, to, unsubscribe_url,
                                                                    now=now), bounces)


def send_preferences_link(transport: Transport, env, site: SiteSettings, newsletter: NewsletterSettings, to: str,
                          preferences_url: str, *, now: datetime, bounces=None) -> None:
    """A reader's own link, asked for on the signup page; sent from the newsletter they were subscribed to."""
    _send_one(transport, site, newsletter, to, notice.preferences_link_email(env, site, newsletter, to,
                                                                             preferences_url, now=now), bounces)


def send_address_confirmation(transport: Transport, env, site: SiteSettings, newsletter: NewsletterSettings,
                              to: str, confirm_url: str, *, now: datetime, ttl_hours: int, bounces=None) -> None:
    """To the new address a reader asked to move to: only its confirmation moves anything."""
    _send_one(transport, site, newsletter, to, notice.address_confirm_email(
        env, site, newsletter, to, confirm_url, now=now, ttl_hours=ttl_hours), bounces)


def send_address_moved(transport: Transport, env, site: SiteSettings, newsletter: NewsletterSettings, to: str,
                       new_address: str, *, now: datetime, bounces=None) -> None:
    """To the old address, once the move is done (the new one masked)."""
    _send_one(transport, site, newsletter, to, notice.address_moved_email(env, site, newsletter, to, new_address,
                                                                          now=now), bounces)


def _send_one(transport: Transport, site: SiteSettings, newsletter: NewsletterSettings, to: str, message: bytes,
              bounces) -> None:
    failures = notify.send_messages(transport, newsletter.from_address, [(to, message)], bounces=bounces,
                                    secret=site.secret_key)
    if failures:
        raise DeliveryError(failures[0])
