"""One-off messages (the signup flow's emails) sent over one connection, outside the outbox.

They go to one person at a time and are not issue deliveries, so there is no
lease or retry here: a failure is returned for the caller to tell the reader.
"""

from __future__ import annotations

from email.utils import parseaddr

from digest import returnpath
from digest.deliver.transports import Transport
from digest.errors import PermanentDeliveryError, TemporaryDeliveryError


def send_messages(transport: Transport, from_address: str, messages: list[tuple[str, bytes]], *,
                  bounces=None, secret: str | None = None) -> list[str]:
    """Send each (recipient, message bytes); TransportUnavailable propagates, per-recipient failures are returned.

    With bounces.domain (and the site key) set, each message's envelope sender
    is signed for its recipient, so a confirmation that bounces counts too.
    """
    failures = []
    verp = bool(bounces is not None and bounces.domain and secret)
    transport.open()
    try:
        for to, message in messages:
            sender = returnpath.for_address(secret, bounces.local_part, bounces.domain, to) if verp \
                else parseaddr(from_address)[1]
            try:
                transport.send(sender, to, message)
            except (TemporaryDeliveryError, PermanentDeliveryError) as exc:
                failures.append(str(exc))
    finally:
        transport.close()
    return failures
