"""The sender threads of a send: each holds one connection and sends the chunks the coordinator hands it.

The coordinator (digest.deliver.engine) claims, feeds and records; a sender only
builds and sends, and reports each outcome with the time the server answered.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque

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


class Inbox:
    """Outcomes on their way from the senders to the coordinator.

    Each outcome is appended as it happens (a short lock, no wake-up); the
    coordinator is woken only at the end of a chunk and at a failure, and
    otherwise drains the inbox whenever it wakes, at least every WAIT_SECONDS. So
    an accepted message is recorded within WAIT_SECONDS + COMMIT_SECONDS however
    slow the rest of its chunk is (what a kill -9 resends), without a hand-over
    between threads for every message.
    """

    WAIT_SECONDS = 0.05

    def __init__(self, failure_limit: int = 0) -> None:
        self.items: deque = deque()
        self.bell: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.failure_limit = failure_limit
        self.failures_in_a_row = 0

    def add(self, item: Claimed | None, status, error, at, *, wake: bool = False) -> bool:
        """Queue (item, status, error, at, failures in a row); True when that makes `failure_limit`.

        Failures in a row are counted here, the one count of them, in the order the coordinator reads
        the outcomes: so the senders stop at the limit themselves (waiting for the coordinator, busy
        with a commit or a claim, let them send chunks more, each a reader marked failed for good),
        and the coordinator pauses the issue on the outcome that reached it.
        """
        with self.lock:
            if status is DeliveryStatus.sent:
                self.failures_in_a_row = 0
            elif status is None or status is DeliveryStatus.failed:
                self.failures_in_a_row += 1
            self.items.append((item, status, error, at, self.failures_in_a_row))
            limit = bool(self.failure_limit) and self.failures_in_a_row >= self.failure_limit
        if wake or limit:
            self.wake()
        return limit

    def wake(self) -> None:
        self.bell.put(None)

    def take(self, block: bool) -> list[tuple]:
        """Everything arrived so far; when empty and `block`, wait for a wake-up (at most WAIT_SECONDS)."""
        if block and not self.items:
            try:
                self.bell.get(timeout=self.WAIT_SECONDS)
            except queue.Empty:
                pass
        while True:  # wake-ups already answered by this drain
            try:
                self.bell.get_nowait()
            except queue.Empty:
                break
        taken = []
        while self.items:  # the only consumer: a non-empty deque stays non-empty until we pop
            taken.append(self.items.popleft())
        return taken


def run_sender(transport_factory, build_message, work, inbox: Inbox, halt, stop, pacer, clock) -> None:
    """One connection's loop: send the chunks the coordinator hands over, each outcome with its time.

    Before every message it checks `halt` (ours: a pause, a failure) and `stop` (the caller's SIGTERM),
    so either takes effect within the messages in flight, not at the end of a chunk.
    """
    transport = transport_factory()
    try:
        transport.open()
    except TransportUnavailable as exc:
        # Not a halt by itself: a server that allows fewer connections than delivery.connections still
        # takes mail on those it accepted. The coordinator halts when no connection opened.
        inbox.add(None, "no-connection", exc, clock(), wake=True)
        return
    try:
        while (chunk := work.get()) is not None:
            for item in chunk:
                if not (halt.is_set() or stop.is_set()):
                    pacer.wait(halt)
                if halt.is_set() or stop.is_set():  # pausing, failing or stopping: hand it back untried
                    inbox.add(item, "untried", None, clock())
                    continue
                status, error = send_one(transport, build_message, item, halt)
                # A failure wakes the coordinator at once; the last one of too many in a row stops us all.
                if inbox.add(item, status, error, clock(), wake=status is not DeliveryStatus.sent):
                    halt.set()
            inbox.wake()
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
