"""Issue outbox -> transport, resumable.

Deliveries are walked in id order, a batch at a time. Each message is marked
sent right after the transport accepts it and committed at once, so a crash
loses at most the one message in flight (which may then go out twice) and
skips nobody: the next run picks up every row still queued.

Per recipient the work is `build_message` (the pipeline passes one that only
substitutes bytes in a message built once per issue) and one transport call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from digest import store
from digest.content import SendReport
from digest.errors import PermanentDeliveryError, TemporaryDeliveryError
from digest.models import DeliveryStatus
from digest.transports import Transport

log = logging.getLogger(__name__)


def deliver_issue(
    sessions: sessionmaker[Session],
    issue_id: int,
    envelope_from: str,
    build_message: Callable[[int, str], bytes],
    transport: Transport,
    *,
    batch_size: int = 50,
    now: Callable[[], datetime],
    progress: Callable[[int], None] | None = None,
) -> SendReport:
    """Send every queued delivery of one issue; TransportUnavailable propagates (rows stay queued)."""
    sent = failed = deferred = 0
    errors: list[str] = []
    last_id = 0
    transport.open()
    try:
        while True:
            with sessions() as session:
                batch = store.queued_batch(session, issue_id, last_id, batch_size)
            if not batch:
                break
            for delivery_id, subscriber_id, email, still_confirmed in batch:
                last_id = delivery_id
                outcome, error = _deliver_one(transport, envelope_from, build_message, subscriber_id, email,
                                              still_confirmed)
                if outcome is None:
                    deferred += 1
                    errors.append(error or "")
                    _record(sessions, delivery_id, DeliveryStatus.queued, now(), error)
                    continue
                _record(sessions, delivery_id, outcome, now(), error)
                if outcome is DeliveryStatus.sent:
                    sent += 1
                elif outcome is DeliveryStatus.failed:
                    failed += 1
                    errors.append(error or "")
                if progress:
                    progress(1)
    finally:
        transport.close()
    with sessions() as session, session.begin():
        store.finish_if_done(session, issue_id, now())
    return SendReport(issue_id=issue_id, sent=sent, failed=failed, deferred=deferred, errors=tuple(errors))


def _deliver_one(transport, envelope_from, build_message, subscriber_id, email, still_confirmed):
    """(final status or None for "try again later", error text)."""
    if not still_confirmed:
        return DeliveryStatus.skipped, "unsubscribed before delivery"
    try:
        message = build_message(subscriber_id, email)
    except UnicodeEncodeError:
        return DeliveryStatus.failed, f"{email}: non-ASCII addresses need SMTPUTF8, not supported yet"
    try:
        transport.send(envelope_from, email, message)
    except PermanentDeliveryError as exc:
        log.warning("permanent failure: %s", exc)
        return DeliveryStatus.failed, str(exc)
    except TemporaryDeliveryError as exc:
        log.warning("temporary failure, will retry on the next run: %s", exc)
        return None, str(exc)
    return DeliveryStatus.sent, None


def _record(sessions, delivery_id: int, status: DeliveryStatus, when: datetime, error: str | None) -> None:
    with sessions() as session, session.begin():
        store.mark_delivery(session, delivery_id, status, when, error)
