"""The sender threads of a send: each holds one connection and sends the chunks the coordinator hands it.

The coordinator (digest.deliver.engine) claims, feeds and records; a sender only
builds and sends, and reports each outcome with the time the server answered.
"""

from __future__ import annotations

import logging
import threading
import time

from digest.deliver.outbox import Claimed
from digest.errors import PermanentDeliveryError, TemporaryDeliveryError, TransportUnavailable
from digest.models import DeliveryStatus

log = logging.getLogger("digest.deliver.engine")


class Pacer:
    """Spaces sends out to a rate shared by this process's connections (0: no limit).

    The senders wait here, not the coordinator, so recording outcomes never
    waits behind the rate limit.
    """

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.next_slot = 0.0
        self.lock = threading.Lock()

    def wait(self, stop: threading.Event) -> None:
        if not self.rate:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(self.next_slot, now)
            self.next_slot = slot + 1.0 / self.rate
        if slot > now:
            stop.wait(slot - now)


def run_sender(transport_factory, build_message, work, results, halt, pacer, clock) -> None:
    """One connection's loop: send the chunks the coordinator hands over, report outcomes with their times.

    Outcomes go back once a chunk is done, except a failure, which goes back at
    once with what came before it (the coordinator counts failures in a row).
    """
    transport = transport_factory()
    try:
        transport.open()
    except TransportUnavailable as exc:
        # Not a halt by itself: a server that allows fewer connections than delivery.connections still
        # takes mail on those it accepted. The coordinator halts when no connection opened.
        results.put([(None, "no-connection", exc, clock())])
        return
    try:
        while (chunk := work.get()) is not None:
            done = []
            for item in chunk:
                if halt.is_set():  # pausing, failing or stopping: hand it back untried
                    done.append((item, "untried", None, clock()))
                    continue
                pacer.wait(halt)
                status, error = send_one(transport, build_message, item, halt)
                done.append((item, status, error, clock()))
                if status is not DeliveryStatus.sent:
                    results.put(done)
                    done = []
            if done:
                results.put(done)
    finally:
        transport.close()


def send_one(transport, build_message, item: Claimed, halt: threading.Event):
    """(status, error) of one message; status None means a temporary failure.

    Anything unexpected (a bug in a template, a transport's odd exception)
    counts as a temporary failure of that message: the thread lives on.
    """
    try:
        envelope_from, message = build_message(item)
        transport.send(envelope_from, item.email, message)
    except PermanentDeliveryError as exc:
        return DeliveryStatus.failed, str(exc)
    except TemporaryDeliveryError as exc:
        return None, str(exc)
    except TransportUnavailable as exc:
        halt.set()
        return "unavailable", exc
    except UnicodeEncodeError:
        return DeliveryStatus.failed, f"{item.email}: non-ASCII addresses need SMTPUTF8"
    except Exception as exc:  # noqa: BLE001  (see the docstring)
        log.exception("unexpected error sending to %s", item.email)
        return None, f"{item.email}: unexpected {exc.__class__.__name__}: {exc}"
    return DeliveryStatus.sent, None
