"""Mail to the List-Unsubscribe mailbox: a reader leaving by mail, with our token or by their own address."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime
from email.utils import parseaddr

from sqlalchemy.orm import Session

from digest.models import Issue
from subscribers import Origin, SubscriberError, remove_subscriber, unsubscribe_by_link


def unsubscribe_request(session: Session, secret: str, raw: bytes, now: datetime) -> str:
    """Mail to the List-Unsubscribe mailto: the token in its subject, else the sender's own address."""
    message = email.message_from_bytes(raw, policy=email.policy.default)  # decoded headers: a =?utf-8?...?= subject
    sender = str(message.get("From", ""))[:200]
    who = Origin("mailto", user_agent=sender)
    match = re.search(r"unsubscribe\s+([\w.\-]+)", str(message.get("Subject", "")), re.IGNORECASE)
    if match:
        try:
            subscription, _undo = unsubscribe_by_link(session, secret, match.group(1), who, now=now)
            return f"{subscription.subscriber.email}: unsubscribed from {subscription.newsletter}"
        except SubscriberError:
            pass  # "unsubscribe me" with no token after all: the sender's address decides below
    # A reader who typed "unsubscribe" themselves: the sender's own subscription, to the newsletter their
    # mail replies to when it says (In-Reply-To / References name our Message-ID), else all of them.
    address = parseaddr(sender)[1].lower()
    issue_ids = [int(n) for n in re.findall(r"<digest\.(\d{1,12})\.", f"{message.get('In-Reply-To', '')} "
                                                                  f"{message.get('References', '')}")]
    issue = session.get(Issue, issue_ids[-1]) if issue_ids else None
    newsletter = issue.newsletter if issue is not None else None
    try:
        changed = remove_subscriber(session, address, newsletter, who, now=now)
    except SubscriberError as exc:
        return f"{sender!r}: {exc}; kept"
    if not changed:
        return f"{address or sender!r} is not subscribed{f' to {newsletter}' if newsletter else ''}; nothing done"
    return f"{address}: unsubscribed from {newsletter or f'{changed} newsletter(s)'} (no token: by sender)"


__all__ = ["unsubscribe_request"]
