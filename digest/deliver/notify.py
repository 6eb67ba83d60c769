"""One-off messages (the signup flow's emails) sent over one connection, outside the outbox.

They go to one person at a time and are not issue deliveries, so there is no
lease or retry here: a failure is returned for the caller to tell the reader.
"""

from __future__ import annotations

from email.utils import parseaddr

from digest.deliver.transports import Transport
from digest.errors import PermanentDeliveryError, TemporaryDeliveryError


def send_messages(transport: Transport, from_address: str, messages: list[tuple[str, bytes]]) -> list[str]:
    """Send each (recipient, message bytes); TransportUnavailable propagates, per-recipient failures are returned."""
    failures = []
    transport.open()
    try:
        for to, message in messages:
            try:
                transport.send(parseaddr(from_address)[1], to, message)
            except (TemporaryDeliveryError, PermanentDeliveryError) as exc:
                failures.append(str(exc))
    finally:
        transport.close()
    return failures
