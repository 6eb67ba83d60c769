"""Delivery engine edge cases found in review: leases that outlive a slow queue, a crashing transport,
a paused issue and workers, and a daemon that must survive its mail server going away."""

from __future__ import annotations

import threading
from dataclasses import replace

from conftest import SECRET, free_port, wait_until
from sqlalchemy import select
from test_daemon import Daemon, daemon_config
from test_rate_limits import newsletter_with_readers

from digest.flows import sending
from digest.flows.runtime import Runtime
from digest.deliver import outbox
from digest.config import load_settings
from digest.errors import PermanentDeliveryError
from digest.models import Delivery, DeliveryStatus, Issue, IssueStatus


def runtime(config, **transport):
    rt = Runtime.create(load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET}))
    return replace(rt, **transport) if transport else rt


def test_slow_queues_keep_their_leases_and_nobody_gets_two(tmp_path, smtp_server):
    config = newsletter_with_readers(tmp_path, smtp_server, 40, "max_per_second = 10.0\nlease_seconds = 2\n"
                                     "batch_size = 50\nconnections = 2")
    outcome = sending.send_newsletter(runtime(config), "daily")
    got = [m.rcpt_tos[0] for m in smtp_server.messages]
    assert len(got) == len(set(got)) == 40 and outcome.reports[-1].sent == 40


class FakeTransport:
    """A transport in this process: only `send` differs between the fakes below."""

    def open(self):
        pass

    def close(self):
        pass


class Gated(FakeTransport):
    """Accepts messages at once, except the third, which waits until the test opens the gate."""

    gate = threading.Event()
    sent: list[str] = []

    def send(self, sender, recipient, message):
        if len(self.sent) == 2:
            assert self.gate.wait(30), "the gate never opened"
        self.sent.append(recipient)


def test_an_accepted_message_is_recorded_while_its_chunk_is_still_sending(tmp_path, smtp_server):
    """Senders take several messages at a time; what the server already accepted must still reach the
    database within a fraction of a second (a kill -9 resends what is not recorded), not when the chunk ends."""
    config = newsletter_with_readers(tmp_path, smtp_server, 40, "connections = 1\nbatch_size = 500")
    rt = runtime(config, transport_factory=Gated)
    Gated.gate.clear()
    Gated.sent = []
    thread = threading.Thread(target=lambda: sending.send_newsletter(rt, "daily"), daemon=True)
    thread.start()

    def recorded() -> int:
        with rt.sessions() as session:
            return len(session.scalars(select(Delivery.id).where(Delivery.status == DeliveryStatus.sent)).all())

    try:
        assert wait_until(lambda: recorded() >= 2, seconds=10), "accepted messages waited for the rest of the chunk"
        assert len(Gated.sent) == 2  # the third is still being "sent"
    finally:
        Gated.gate.set()
        thread.join(timeout=30)
    assert recorded() == 40


class Refusing(FakeTransport):
    """A relay that refuses every reader (550): counts what it was asked to send, across connections."""

    calls = 0
    lock = threading.Lock()

    def send(self, sender, recipient, message):
        with Refusing.lock:
            Refusing.calls += 1
        raise PermanentDeliveryError(f"{recipient}: 550 5.7.1 blocked")


def test_failures_in_a_row_stop_the_senders_at_the_limit_not_chunks_later(tmp_path, smtp_server):
    """Each refusal marks a reader failed for good: past the limit only what was already in flight may go."""
    config = newsletter_with_readers(tmp_path, smtp_server, 300, "connections = 4\nbatch_size = 500\n"
                                     "max_consecutive_failures = 5")
    Refusing.calls = 0
    outcome = sending.send_newsletter(runtime(config, transport_factory=Refusing), "daily")
    report = outcome.reports[-1]
    assert report.paused_reason and "5 failures in a row" in report.paused_reason
    assert 5 <= Refusing.calls <= 5 + 4 - 1, Refusing.calls  # the limit, plus the other connections' in flight
    assert report.failed == Refusing.calls
    rt = runtime(config)
    with rt.sessions() as session:
        queued = session.scalars(select(Delivery.id).where(Delivery.status == DeliveryStatus.queued)).all()
        leased = session.scalars(select(Delivery.id).where(Delivery.lease_owner.is_not(None))).all()
    assert len(queued) == 300 - Refusing.calls and leased == []


class Stopping(FakeTransport):
    """Accepts messages; the third one also asks the send to stop (as SIGTERM does)."""

    stop = threading.Event()
    sent: list[str] = []

    def send(self, sender, recipient, message):
        Stopping.sent.append(recipient)
        if len(Stopping.sent) == 3:
            Stopping.stop.set()


def test_a_stop_ends_the_send_after_the_message_in_flight_not_after_its_chunk(tmp_path, smtp_server):
    config = newsletter_with_readers(tmp_path, smtp_server, 100, "connections = 1\nbatch_size = 500")
    Stopping.stop.clear()
    Stopping.sent = []
    rt = runtime(config, transport_factory=Stopping)
    outcome = sending.send_newsletter(rt, "daily", stop=Stopping.stop)
    assert len(Stopping.sent) == 3 and outcome.reports[-1].sent == 3 and outcome.reports[-1].stopped
    with rt.sessions() as session:
        queued = session.scalars(select(Delivery.id).where(Delivery.status == DeliveryStatus.queued)).all()
        leased = session.scalars(select(Delivery.id).where(Delivery.lease_owner.is_not(None))).all()
    assert len(queued) == 97 and leased == []


class Exploding(FakeTransport):
    """A transport with a bug: every send raises something no one planned for."""

    def send(self, sender, recipient, message):
        raise RuntimeError("boom")


def test_an_unexpected_transport_error_is_a_failure_not_a_hang(tmp_path, smtp_server):
    config = newsletter_with_readers(tmp_path, smtp_server, 3, "max_attempts = 2")
    rt = runtime(config, transport_factory=Exploding)
    result = {}
    thread = threading.Thread(target=lambda: result.update(outcome=sending.send_newsletter(rt, "daily")), daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the send hung"
    report = result["outcome"].reports[-1]
    assert report.failed == 3 and "unexpected RuntimeError: boom" in report.errors[-1]


def test_a_paused_issue_waits_for_digest_send(tmp_path, smtp_server):
    config = newsletter_with_readers(tmp_path, smtp_server, 4, "")
    rt = runtime(config)
    sending.send_newsletter(rt, "daily", deliver=False)
    with rt.sessions() as session, session.begin():
        issue = session.scalar(select(Issue))
        outbox.pause(session, issue.id, "5 failures in a row; last: 550 blocked")
    newsletter = rt.settings.newsletter("daily")
    worker_like = sending.send_existing_issue(rt, newsletter, issue, SECRET)
    assert worker_like.paused_reason and worker_like.sent == 0 and smtp_server.messages == []
    scheduler_like = sending.send_newsletter(rt, "daily", fetch=False)
    assert smtp_server.messages == [] and scheduler_like.nothing_new
    operator = sending.send_newsletter(rt, "daily", fetch=False, resume_paused=True)
    assert operator.reports[0].sent == 4 and len(smtp_server.messages) == 4
    with rt.sessions() as session:
        assert session.scalar(select(Issue.status)) is IssueStatus.sent


def test_a_sent_issue_keeps_its_counts_and_a_requeue_counts_again(tmp_path, smtp_server):
    import json

    config = newsletter_with_readers(tmp_path, smtp_server, 3, "max_attempts = 1")
    rt = runtime(config)
    smtp_server.replies = {"r1@example.com": "451 4.3.0 relay busy"}
    sending.send_newsletter(rt, "daily")
    with rt.sessions() as session:
        issue = session.scalar(select(Issue))
        live = outbox.live_counts(session, [issue.id])[issue.id]
        assert issue.status is IssueStatus.sent and json.loads(issue.final_counts) == live
        assert live["sent"] == 2 and live["failed"] == 1 and outbox.counts(session, [issue.id])[issue.id] == live
    with rt.sessions() as session, session.begin():
        assert outbox.requeue_failed(session, issue.id) == 1
    with rt.sessions() as session:
        assert session.get(Issue, issue.id).final_counts is None  # sending again: counted row by row
        assert outbox.counts(session, [issue.id])[issue.id] | {"sent": 0} == {
            "queued": 1, "retrying": 0, "sent": 0, "failed": 0, "skipped": 0}
    smtp_server.replies = {}
    sending.send_newsletter(rt, "daily", fetch=False)
    with rt.sessions() as session:
        assert json.loads(session.get(Issue, issue.id).final_counts)["sent"] == 3
        assert outbox.counts(session, [issue.id])[issue.id]["failed"] == 0


def test_the_daemon_survives_its_mail_server_going_away(tmp_path, smtp_server):
    from aiosmtpd.controller import Controller
    from conftest import RecordingHandler

    port = free_port()
    config, _status_port = daemon_config(tmp_path, smtp_server, "*/2 * * * * *")
    config.write_text(config.read_text().replace(f"port = {smtp_server.port}", f"port = {port}"))
    daemon = Daemon(config)
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    try:
        assert daemon.wait_for("cannot connect to SMTP server"), daemon.text()
        assert daemon.process.poll() is None  # still running
        controller.start()
        assert wait_until(lambda: len(handler.messages) == 1, seconds=20), daemon.text()
    finally:
        assert daemon.stop() == 0
        controller.stop()


def test_a_zombie_sender_holds_no_leases():
    """A killed sender whose parent died too stays a zombie until init reaps it; kill(pid, 0) still finds
    it, and its leases held the rest of the send back for lease_seconds (a resumed send waited 120 s)."""
    import os
    import subprocess
    import sys

    from digest.deliver.outbox import _pid_alive

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert _pid_alive(child.pid)
        child.kill()  # not reaped yet: a zombie
        def zombie() -> bool:
            with open(f"/proc/{child.pid}/stat") as stat:
                return stat.read().rpartition(")")[2].split()[0] == "Z"

        assert wait_until(zombie, seconds=10)
        assert not _pid_alive(child.pid)
        assert _pid_alive(os.getpid())
    finally:
        child.wait()
