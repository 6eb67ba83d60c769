"""The signup flow's transactional emails as finished bytes: the confirmation request and the welcome.

These go to one person at a time, so an EmailMessage per message is fine
here (unlike the digest's send loop). The confirmation email is the only mail
an unconfirmed address ever receives; it carries nothing but the link.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from urllib.parse import quote, urlsplit

import jinja2

from digest.settings import NewsletterSettings, SiteSettings
from digest.render import i18n
from digest.render.html import inline_css, read_css, render_template
from digest.render.message import subject_line


def confirmation_url(site: SiteSettings, token: str) -> str:
    return f"{site.base_url.rstrip('/')}/confirm?token={quote(token)}"


def build_email(env: jinja2.Environment, name: str, *, site: SiteSettings, newsletter: NewsletterSettings,
                to: str, subject: str, now: datetime, **context) -> bytes:
    """Render templates/email/<name>.html and .txt into one multipart/alternative message, in the newsletter's
    language (the reader signed up for that newsletter: its words are the ones they chose)."""
    language = _language(site, newsletter)
    context = {"site": site.for_templates(), "newsletter": newsletter, "subject": subject, "css": read_css(env),
               **i18n.words(language, i18n.own_texts(newsletter)), **context}
    message = EmailMessage(policy=SMTP)
    message["From"] = newsletter.from_address
    message["To"] = to
    message["Date"] = format_datetime(now)
    domain = urlsplit(site.base_url).hostname or "localhost"
    message["Message-ID"] = f"<{name}.{secrets.token_hex(12)}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_template(env, f"email/{name}.txt", context), cte="quoted-printable")
    message.add_alternative(inline_css(render_template(env, f"email/{name}.html", context)), subtype="html",
                            cte="quoted-printable")
    message["Content-Language"] = language  # after the parts: adding them drops every Content-* header
    return subject_line(subject) + message.as_bytes()


def _language(site: SiteSettings, newsletter: NewsletterSettings) -> str:
    return newsletter.language or site.language


def _subject(site: SiteSettings, newsletter: NewsletterSettings, text: str) -> str:
    """A notice's subject in the newsletter's language, with the newsletter's and the site's names filled in."""
    catalog = i18n.translator(_language(site, newsletter), i18n.own_texts(newsletter))
    return catalog.gettext(text) % {"newsletter": newsletter.title, "site": site.name}


def confirmation_email(env: jinja2.Environment, site: SiteSettings, newsletter: NewsletterSettings, to: str,
                       token: str, *, now: datetime, ttl_hours: int) -> bytes:
    return build_email(env, "confirm", site=site, newsletter=newsletter, to=to, now=now,
                       subject=_subject(site, newsletter, i18n.N_("Please confirm your subscription to %(newsletter)s")),
                       confirm_url=confirmation_url(site, token), ttl_hours=ttl_hours)


def welcome_email(env: jinja2.Environment, site: SiteSettings, newsletter: NewsletterSettings, to: str,
                  unsubscribe_url: str, *, now: datetime) -> bytes:
    return build_email(env, "welcome", site=site, newsletter=newsletter, to=to, now=now,
                       subject=_subject(site, newsletter, i18n.N_("Welcome to %(newsletter)s")), unsubscribe_url=unsubscribe_url,
                       preferences_url=unsubscribe_url.replace("/unsubscribe?token=", "/preferences/", 1))


def preferences_link_email(env: jinja2.Environment, site: SiteSettings, newsletter: NewsletterSettings, to: str,
                           preferences_url: str, *, now: datetime) -> bytes:
    return build_email(env, "preferences_link", site=site, newsletter=newsletter, to=to, now=now,
                       subject=_subject(site, newsletter, i18n.N_("Your subscriptions at %(site)s")), preferences_url=preferences_url)


def address_confirm_email(env: jinja2.Environment, site: SiteSettings, newsletter: NewsletterSettings, to: str,
                          confirm_url: str, *, now: datetime, ttl_hours: int) -> bytes:
    return build_email(env, "address_confirm", site=site, newsletter=newsletter, to=to, now=now,
                       subject=_subject(site, newsletter, i18n.N_("Please confirm your new address for %(site)s")),
                       confirm_url=confirm_url,
                       ttl_hours=ttl_hours)


def address_moved_email(env: jinja2.Environment, site: SiteSettings, newsletter: NewsletterSettings, to: str,
                        new_address: str, *, now: datetime) -> bytes:
    return build_email(env, "address_moved", site=site, newsletter=newsletter, to=to, now=now,
                       subject=_subject(site, newsletter, i18n.N_("Your newsletters from %(site)s go to a new address")),
                       new_address=new_address)


def operator_email(site: SiteSettings, from_address: str, to: str, subject: str, body: str, *,
                   now: datetime) -> bytes:
    """A plain-text note to an operator (a draft to review, an issue held): no template, nothing personal."""
    message = EmailMessage(policy=SMTP)
    message["From"] = from_address
    message["To"] = to
    message["Date"] = format_datetime(now)
    domain = urlsplit(site.base_url).hostname or "localhost"
    message["Message-ID"] = f"<review.{secrets.token_hex(12)}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, cte="quoted-printable")
    return subject_line(subject) + message.as_bytes()
