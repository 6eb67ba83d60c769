"""Is this failure the address's fault (hard), or the moment's or the message's (soft)?

Only a hard bounce may suppress an address at once, so "hard" is kept
narrow: a permanent (5.x.x) status about the address (RFC 3463 subject 1:
unknown user, bad domain), a disabled mailbox (x.2.1), a domain mail cannot
be routed to (x.4.4), or a permanent status-less reply whose text says the
mailbox does not exist. Other network statuses (x.4.1 no answer, x.4.7
expired) are about the path, not the reader. A full mailbox (x.2.2), a policy or spam block (x.7.x), a message
too big (x.3.4), and every 4.x.x are soft: they say nothing lasting about
the reader, and a relay that blocks us must never empty the list.
"""

from __future__ import annotations

import re

from digest.inbound.reports import STATUS_RE, RecipientStatus

HARD_TEXT = re.compile(r"unknown|no such|does(n't| not) exist|not exist|invalid (recipient|mailbox|address|user)|"
                       r"user not found|recipient not found|mailbox not found|unrouteable|no mailbox|"
                       r"mailbox (is )?(disabled|unavailable|inactive)|account (is )?(disabled|inactive|deactivated)|"
                       r"address rejected", re.IGNORECASE)
SOFT_TEXT = re.compile(r"quota|full|spam|block|policy|reputation|rate|too many|try again|later|relay", re.IGNORECASE)


def bounce_kind(recipient: RecipientStatus) -> str | None:
    """"hard", "soft", or None when the report is not a failure (delayed, delivered, relayed)."""
    if recipient.action not in ("failed", ""):
        return None
    return status_kind(recipient.status, recipient.diagnostic)


def status_kind(status: str, text: str = "") -> str:
    match = STATUS_RE.search(status) or STATUS_RE.search(text)
    if match is None:
        code = re.match(r"\s*(?:smtp;\s*)?([245])\d\d\b", text)
        if code is None or code.group(1) != "5":
            return "soft"
        return "hard" if HARD_TEXT.search(text) and not SOFT_TEXT.search(text) else "soft"
    klass, subject, detail = match.groups()
    if klass != "5":
        return "soft"
    if subject == "1" or (subject, detail) in (("2", "1"), ("4", "4")):
        return "hard"
    if (subject, detail) == ("0", "0"):  # "other or undefined": the words decide
        return "hard" if HARD_TEXT.search(text) and not SOFT_TEXT.search(text) else "soft"
    return "soft"


def smtp_refusal_kind(error: str) -> str | None:
    """A synchronous refusal our own sender recorded ("addr: 550 5.1.1 ..."): hard, soft, or None.

    None for a refusal of our envelope sender (MAIL FROM): that is about
    us, never about the reader.
    """
    if " at MAIL FROM: " in error:
        return None
    reply = error.split(": ", 1)[1] if ": " in error else error
    return status_kind("", reply.removeprefix("at DATA: "))
