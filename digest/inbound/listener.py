"""The SMTP listener for returned mail: takes only our own addresses, never relays, never stops on bad mail.

aiosmtpd speaks SMTP; here are the limits that make it safe to face the
internet: recipients outside our bounce and unsubscribe addresses are
refused at RCPT (550, so it is no relay), a message above max_bytes is
refused while it streams (552), one connection may hand over a bounded
number of messages and only so many connections are served at once (421
beyond). Acting on a message is blocking database work, so it runs on
writer threads; the messages waiting when a writer comes free, and those
arriving while it acts on them, share one transaction (group commit: one
fsync for the lot, the cost that bounded a flood), and each sender hears
250 only once that commit is done, so a crash or kill -9 loses no message
it has accepted. If acting fails (the database is down) the senders are
told to try again later (451) and their MTAs keep the messages: nothing is
lost. Reading and classifying a message needs no database, so an optional
`prepare` hook does it on the listener's own thread as the message arrives,
while a writer is busy with the database (SQLite lets go of the interpreter
while it commits); the writer's transaction then holds only the writes.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

log = logging.getLogger(__name__)
MAX_RECIPIENTS = 50
Message = tuple  # envelope sender, recipients, the message's bytes (and what `prepare` read of them, if set)


@dataclass(frozen=True)
class ListenerLimits:
    max_bytes: int = 2_000_000
    max_messages_per_connection: int = 100
    max_connections: int = 50
    timeout_seconds: float = 60.0
    workers: int = 4  # writer threads; SQLite takes one writer at a time, so one is enough there
    batch: int = 50  # messages acted on in one transaction at most


class InboundHandler:
    """aiosmtpd hooks: `accepts(address)` decides RCPT, `process(messages)` acts on an iterable of (mail_from,
    recipients, data) in one transaction (blocking) and returns once they are durably recorded, one result each.
    With `prepare`, each message is (mail_from, recipients, data, prepare(mail_from, recipients, data)): its pure
    reading, done ahead (None where there is nothing to read ahead)."""

    def __init__(self, accepts: Callable[[str], bool], process: Callable[[Iterable[Message]], list],
                 limits: ListenerLimits, prepare: Callable[..., object] | None = None) -> None:
        self.accepts, self.process, self.limits, self.prepare = accepts, process, limits, prepare
        self.waiting: queue.SimpleQueue = queue.SimpleQueue()
        self.writers = [threading.Thread(target=self._write, name=f"inbound_{n}", daemon=True)
                        for n in range(max(1, limits.workers))]
        for writer in self.writers:
            writer.start()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        done = getattr(session, "digest_messages", 0)
        if done >= self.limits.max_messages_per_connection:
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.7.0 Too many messages on one connection; reconnect"
        envelope.mail_from, envelope.mail_options = address, list(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not self.accepts(address):
            log.info("inbound: refused recipient %r from %s (not ours: no relaying)", address[:200], session.peer)
            return "550 5.7.1 Relaying denied: this server takes mail for its own bounce addresses only"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        session.digest_messages = getattr(session, "digest_messages", 0) + 1
        data = envelope.original_content or envelope.content or b""  # bytes: the server runs with decode_data=False
        message: Message = (envelope.mail_from or "", list(envelope.rcpt_tos), data)
        if self.prepare is not None:
            try:
                message = (*message, self.prepare(*message))
            except Exception:  # noqa: BLE001  (the writer reads it again, where a failure keeps the message)
                log.exception("inbound: reading a message ahead failed")
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self.waiting.put((message, (loop, done)))
        try:
            await done
        except Exception:  # noqa: BLE001  (a failure here must not close the listener; the MTA retries)
            log.exception("inbound: could not act on a message from %s; asked the sender to retry", session.peer)
            return "451 4.3.0 Temporary failure; please try again later"
        return "250 OK: received"

    def _write(self) -> None:
        """One writer: act on what waits, taking in what arrives meanwhile (up to `batch` messages) into the same
        transaction, then answer each message's waiter."""
        while (first := self.waiting.get()) is not None:
            taken: list = []
            try:
                results = self.process(self._arriving(first, taken))
            except Exception as exc:  # noqa: BLE001  (each waiter answers 451)
                _answer([(waiter, None, exc) for _message, waiter in taken])
            else:
                _answer([(waiter, result, None) for (_message, waiter), result in zip(taken, results)])

    def _arriving(self, item, taken: list) -> Iterator[Message]:
        """The messages of one transaction, pulled as the flow asks for the next: each one taken is noted with its
        waiter, so exactly those are answered."""
        while item is not None:
            taken.append(item)
            yield item[0]
            if len(taken) >= self.limits.batch:
                return
            try:
                item = self.waiting.get_nowait()
            except queue.Empty:
                return
        self.waiting.put(None)  # a stop (this writer's or another's): left for after this batch

    def close(self) -> None:
        """Act on what is already waiting, then stop the writers."""
        for _writer in self.writers:
            self.waiting.put(None)
        for writer in self.writers:
            writer.join()


def _answer(outcomes: list) -> None:
    """Wake the listener's loop once for a whole batch (one wake-up a message cost as much as a write)."""
    by_loop: dict = {}
    for (loop, done), result, error in outcomes:
        by_loop.setdefault(loop, []).append((done, result, error))
    for loop, settled in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:  # the loop is closed: its connections are gone, the senders will retry
            pass


def _settle(settled: list) -> None:
    for done, result, error in settled:
        if done.done():  # the connection dropped while its message was acted on
            continue
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)


class _LimitedSMTP(SMTP):
    """One SMTP connection; past max_connections, a new one is told 421 and closed before the greeting."""

    def __init__(self, *args, counter: _Counter, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.counter, self.counted = counter, False

    def connection_made(self, transport) -> None:
        if not self.counter.enter():
            transport.write(b"421 4.7.0 Too many connections; try again later\r\n")
            transport.close()
            return
        self.counted = True
        super().connection_made(transport)

    def connection_lost(self, exc) -> None:
        if self.counted:
            self.counted = False
            self.counter.leave()
        super().connection_lost(exc)


class _Counter:
    def __init__(self, limit: int) -> None:
        self.limit, self.active, self.lock = limit, 0, threading.Lock()

    def enter(self) -> bool:
        with self.lock:
            if self.active >= self.limit:
                return False
            self.active += 1
            return True

    def leave(self) -> None:
        with self.lock:
            self.active -= 1


class InboundServer(Controller):
    """The listener on its own thread and event loop: `start()`, `stop()`; the daemon and the CLI share it."""

    def __init__(self, handler: InboundHandler, host: str, port: int, limits: ListenerLimits) -> None:
        self.counter = _Counter(limits.max_connections)
        super().__init__(handler, hostname=host, port=port, data_size_limit=limits.max_bytes,
                         timeout=limits.timeout_seconds, decode_data=False, ident="digest inbound")
        self.inbound = handler

    def factory(self):
        return _LimitedSMTP(self.handler, counter=self.counter, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False):
        super().stop(no_assert=no_assert)
        self.inbound.close()
