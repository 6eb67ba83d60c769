"""Telling the editors: a draft waits for review, or was held for want of an approval.

A request counts as asked only once the mail went (`asked_at`), so a refused
mail or a process that died in between is asked again by the next round.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select, update

from digest.settings import NewsletterSettings
from digest.deliver import notify
from digest.flows.runtime import Runtime
from digest.models import Operator, ReviewDraft
from digest.render.notice import operator_email

log = logging.getLogger(__name__)


def review_link(rt: Runtime, draft_id: int) -> str:
    return f"{rt.settings.site.base_url.rstrip('/')}/admin/review/{draft_id}"


# Drafts whose request a thread of this process is mailing now. The daemon's slot job drafts and asks beside its
# review round, whose ask_pending would otherwise see the draft unasked while that mail is on its way (a loaded
# machine's slow relay) and ask a second time.
_ASKING: set[int] = set()
_ASKING_LOCK = threading.Lock()


def ask_editors(rt: Runtime, newsletter: NewsletterSettings, row: ReviewDraft) -> bool:
    """Mail the editors the draft's link, unless it was asked meanwhile or is being asked by another thread here;
    `asked_at` is set only once the mail went (see `ask_pending`). Returns whether this call asked."""
    with _ASKING_LOCK:
        if row.id in _ASKING:
            return False
        _ASKING.add(row.id)
    try:
        with rt.sessions() as session:
            current = session.get(ReviewDraft, row.id)
            if current is None or current.asked_at is not None or current.state != "review":
                return False  # asked by the round that read it first, or settled meanwhile
        if not tell_editors(rt, newsletter, f"Review: {newsletter.title} for {row.slot_at:%d %b %Y %H:%M} UTC",
                            f"The next issue of {newsletter.title} is drafted and waits for your review"
                            f"{' (it is not sent without an approval)' if newsletter.review == 'required' else ''}"
                            f":\n\n{review_link(rt, row.id)}\n"):
            return False
        with rt.sessions() as session, session.begin():  # not an edit: the version the editors see stays
            session.execute(update(ReviewDraft).where(ReviewDraft.id == row.id).values(asked_at=rt.now())
                            .execution_options(synchronize_session=False))
        return True
    finally:
        with _ASKING_LOCK:
            _ASKING.discard(row.id)


def ask_pending(rt: Runtime) -> int:
    """Ask again for drafts in review whose request never went out: the mail server refused it, or the
    process that drafted it died between the draft and the mail. Returns how many were asked."""
    newsletter_of = {n.slug: n for n in rt.settings.newsletters if n.review != "off"}
    with rt.sessions() as session:
        rows = list(session.scalars(select(ReviewDraft).where(ReviewDraft.state == "review",
                                                              ReviewDraft.asked_at.is_(None))))
    return sum(ask_editors(rt, newsletter_of[row.newsletter], row) for row in rows if row.newsletter in newsletter_of)


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
