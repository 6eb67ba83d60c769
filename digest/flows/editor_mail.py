"""Telling the editors: a draft waits for review, or was held for want of an approval.

A request counts as asked only once the mail went (`asked_at`), so a refused
mail or a process that died in between is asked again by the next round.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from digest.settings import NewsletterSettings
from digest.deliver import notify
from digest.flows.runtime import Runtime
from digest.models import Operator, ReviewDraft
from digest.render.notice import operator_email

log = logging.getLogger(__name__)


def review_link(rt: Runtime, draft_id: int) -> str:
    return f"{rt.settings.site.base_url.rstrip('/')}/admin/review/{draft_id}"


def ask_editors(rt: Runtime, newsletter: NewsletterSettings, row: ReviewDraft) -> None:
    """Mail the editors the draft's link; `asked_at` is set only once the mail went (see `ask_pending`)."""
    if tell_editors(rt, newsletter, f"Review: {newsletter.title} for {row.slot_at:%d %b %Y %H:%M} UTC",
                    f"The next issue of {newsletter.title} is drafted and waits for your review"
                    f"{' (it is not sent without an approval)' if newsletter.review == 'required' else ''}:\n\n"
                    f"{review_link(rt, row.id)}\n"):
        with rt.sessions() as session, session.begin():  # not an edit: the version the editors see stays
            session.execute(update(ReviewDraft).where(ReviewDraft.id == row.id).values(asked_at=rt.now())
                            .execution_options(synchronize_session=False))


def ask_pending(rt: Runtime) -> int:
    """Ask again for drafts in review whose request never went out: the mail server refused it, or the
    process that drafted it died between the draft and the mail. Returns how many were asked."""
    newsletter_of = {n.slug: n for n in rt.settings.newsletters if n.review != "off"}
    with rt.sessions() as session:
        rows = list(session.scalars(select(ReviewDraft).where(ReviewDraft.state == "review",
                                                              ReviewDraft.asked_at.is_(None))))
    for row in rows:
        if row.newsletter in newsletter_of:
            ask_editors(rt, newsletter_of[row.newsletter], row)
    return len(rows)


def tell_editors(rt: Runtime, newsletter: NewsletterSettings, subject: str, body: str) -> bool:
    """False only when the mail server failed us (worth trying again); no one with an address is not a failure."""
    with rt.sessions() as session:
        addresses = list(session.scalars(select(Operator.email).where(Operator.email != "").order_by(Operator.name)))
    if not addresses:
        log.warning("%s: no operator has an email address to tell: %s", newsletter.slug, subject)
        return True
    messages = [(to, operator_email(rt.settings.site, newsletter.from_address, to, subject, body, now=rt.now()))
                for to in addresses]
    try:
        failures = notify.send_messages(rt.transport_factory(), newsletter.from_address, messages)
    except Exception as exc:  # the draft stands; the console shows it even if the mail did not go
        failures = [str(exc)]
    for failure in failures:
        log.error("%s: telling the editors failed: %s", newsletter.slug, failure)
    return not failures


__all__ = ["ask_editors", "ask_pending", "review_link", "tell_editors"]
