"""Who gets an issue, and which rendering of it: the outbox made from each reader's own choices.

A reader's choices are applied once, when the outbox is made, so a sender
never looks them up per message: a paused reader, a reader whose sections the
issue does not carry, and a reader who takes the weekly roundup instead of
every issue get no row (the issue counts them by reason). Readers are grouped
by their stored choice of sections (a sorted JSON list, so equal choices are
equal strings); each group is one INSERT ... SELECT, and each distinct set of
sections the issue carries for them is rendered once, not once per reader.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Integer, func, insert, literal, or_, select, true
from sqlalchemy.orm import Session

from digest.content import RenderedIssue
from digest.models import Delivery, DeliveryStatus, Issue, IssueVariant
from subscribers.preferences import WEEKLY, read_sections, sections_value
from subscribers.models import Subscriber, Subscription, SubscriptionStatus
from subscribers.suppression import not_suppressed

ROUNDUP = "roundup"
# Why a reader got no delivery of an issue by their own choice (Issue.held_readers).
NO_SECTION = "no_section"
HELD_REASONS = {NO_SECTION: "with none of their sections in it", ROUNDUP: "on the weekly roundup"}

# The issue rendered with only these sections (its own marks: fill_outbox puts the issue's in).
RenderVariant = Callable[[tuple[str, ...]], RenderedIssue]


def fill_outbox(session: Session, issue: Issue, now: datetime, sections: tuple[str, ...], render: RenderVariant,
                roundup: bool) -> None:
    """One queued delivery per reader this issue is for; held readers counted on the issue by reason.

    `sections` are the titles the issue carries; `roundup` says whether the
    newsletter has a weekly roundup (without one, a reader's "weekly" choice
    is moot and they get every issue).
    """
    audience = (Subscription.newsletter == issue.newsletter, Subscription.status == SubscriptionStatus.confirmed,
                not_suppressed(Subscriber.email))  # a bounced or complaining address gets no outbox row
    paused = Subscription.paused_until > now  # the reader's own pause: no row, counted as held back
    active = or_(Subscription.paused_until.is_(None), ~paused)
    weekly = Subscription.frequency == WEEKLY
    wants = (weekly if issue.kind == ROUNDUP else ~weekly) if roundup else true()
    held: dict[str, int] = {}
    if roundup and issue.kind != ROUNDUP:
        held[ROUNDUP] = _count(session, *audience, active, weekly)
    carried = frozenset(sections)
    variants: dict[str, int] = {}
    choices = session.scalars(select(Subscription.sections).join(Subscriber).where(*audience, active, wants)
                              .distinct()).all()
    for stored in sorted(choices, key=lambda c: (c is not None, c or "")):
        same = Subscription.sections.is_(None) if stored is None else Subscription.sections == stored
        chosen = read_sections(stored)
        variant_id = None
        if chosen is not None and not carried <= chosen:
            kept = tuple(title for title in sections if title in chosen)  # in the issue's own order
            if not kept:
                held[NO_SECTION] = held.get(NO_SECTION, 0) + _count(session, *audience, active, wants, same)
                continue
            key = sections_value(kept)
            if key not in variants:
                html, text = _own_marks(render(kept), issue)
                variant = IssueVariant(issue_id=issue.id, sections=key, html=html, text=text)
                session.add(variant)
                session.flush()
                variants[key] = variant.id
            variant_id = variants[key]
        rows = (select(literal(issue.id), Subscriber.id, Subscriber.email, literal(DeliveryStatus.queued.name),
                       literal(0), Subscription.plain_text, literal(variant_id, Integer))
                .join(Subscription).where(*audience, active, wants, same))
        session.execute(insert(Delivery).from_select(
            ["issue_id", "subscriber_id", "email", "status", "attempts", "plain_text", "variant_id"], rows))
    issue.paused_readers = _count(session, *audience, paused, wants)
    issue.held_readers = json.dumps({k: v for k, v in held.items() if v}, sort_keys=True)


def held_counts(issue: Issue) -> dict[str, int]:
    try:
        counts = json.loads(issue.held_readers or "{}")
    except ValueError:
        return {}
    return {k: int(v) for k, v in counts.items() if k in HELD_REASONS and isinstance(v, int)}


def _own_marks(rendered: RenderedIssue, issue: Issue) -> tuple[str, str]:
    """The variant's bodies with the issue's reader mark and permanent web link, as store.create_issue
    gives the whole issue."""
    def own(body: str) -> str:
        body = body.replace(rendered.mark, issue.personal_mark)
        return body.replace(rendered.web_mark, str(issue.id)) if rendered.web_mark else body
    return own(rendered.html), own(rendered.text)


def _count(session: Session, *where) -> int:
    return session.scalar(select(func.count()).select_from(Subscriber).join(Subscription).where(*where)) or 0


__all__ = ["HELD_REASONS", "NO_SECTION", "ROUNDUP", "RenderVariant", "fill_outbox", "held_counts"]
