"""Returned mail acted on in shared transactions (issue 24: `digest inbound` at >= 300 messages/s).

The listener acts on the messages that wait together in one transaction (one commit, one fsync) and
answers each 250 only after that commit. What must hold: a message whose handling fails is kept alone
while the others act (SQLite and PostgreSQL); a kill -9 loses no message that was answered 250, and the
ones resent after it count once.
"""

from __future__ import annotations

import os
import signal
import smtplib
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from bounce_samples import arf, dsn
from conftest import SECRET, free_port, start_cli, wait_until, write_config
from test_bounces import _open

from digest import returnpath
from digest.config import load_settings
from digest.db import create_schema, make_engine, make_sessionmaker
from digest.flows import feedback
from digest.inbound.listener import InboundHandler, InboundServer, ListenerLimits
from digest.models import Delivery, DeliveryStatus, Issue
from subscribers import Origin, Subscriber, add_subscriber
from subscribers.db import utcnow

BOOM = "boom@remote.example.net"  # the test database refuses this reader's feedback row (a trigger)
TRIGGERS = {
    "sqlite": [(f"CREATE TRIGGER boom BEFORE INSERT ON feedback WHEN NEW.email = '{BOOM}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END")],
    "postgresql": [(f"CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.email = '{BOOM}' THEN "
                    "RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"),
                   "CREATE TRIGGER boom BEFORE INSERT ON feedback FOR EACH ROW EXECUTE FUNCTION boom()"],
}


def settings_at(tmp_path, port: int = 2525):
    config = write_config(tmp_path, sources='[[newsletters.sources]]\nname = "Wire"\nurl = "wire.xml"\n')
    config.write_text(config.read_text() + f'\n[bounces]\ndomain = "bounce.example.net"\nlisten_port = {port}\n')
    return config


def readers_with_deliveries(url: str, emails) -> dict[str, int]:
    """The readers, one sent issue and a delivery to each; returns each reader's delivery id."""
    engine = make_engine(url)
    create_schema(engine)
    now = datetime.now(UTC)
    with make_sessionmaker(engine)() as session, session.begin():
        for email in emails:
            add_subscriber(session, email, "daily", confirmed=True, origin=Origin("test"), now=now)
        issue = Issue(newsletter="daily", slot="s1", subject="S", html="", text="", personal_mark="x")
        session.add(issue)
        session.flush()
        deliveries = {s.email: Delivery(issue_id=issue.id, subscriber_id=s.id, email=s.email,
                                        status=DeliveryStatus.sent, attempts=1, sent_at=now)
                      for s in session.scalars(sa.select(Subscriber))}
        session.add_all(deliveries.values())
        session.flush()
        ids = {email: delivery.id for email, delivery in deliveries.items()}
    engine.dispose()
    return ids


def path_of(delivery_id: int) -> str:
    return returnpath.for_delivery(SECRET, "bounces", "bounce.example.net", delivery_id)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'digest.db'}"
    return request.getfixturevalue("pg_url")


def test_a_message_that_fails_is_kept_alone_and_the_rest_of_its_batch_acts(tmp_path, database):
    ids = readers_with_deliveries(database, ["ann@remote.example.net", "dead@remote.example.net",
                                             "full@remote.example.net", BOOM])
    engine = make_engine(database)
    with engine.begin() as connection:
        for statement in TRIGGERS[engine.dialect.name]:
            connection.exec_driver_sql(statement)
    process = feedback.processor(load_settings(settings_at(tmp_path)), SECRET, make_sessionmaker(engine), utcnow)

    def bounce(email, **kw):
        return "", [path_of(ids[email])], dsn(path_of(ids[email]), email, **kw)

    results = process([
        ("", [path_of(ids["ann@remote.example.net"])], arf(path_of(ids["ann@remote.example.net"]),
                                                          original_rcpt="ann@remote.example.net")),
        bounce(BOOM),  # suppresses, then its feedback row is refused: all of it rolls back
        bounce("dead@remote.example.net"),
        bounce("dead@remote.example.net"),  # the same DSN twice in one batch counts once
        bounce("full@remote.example.net", status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"),
    ])
    lines = [" | ".join(result.lines) for result in results]
    assert "unsubscribed from daily" in lines[0] and not results[0].kept
    assert results[1].kept and "could not act on it" in lines[1]
    assert "suppressed (hard bounce)" in lines[2] and "already recorded" in lines[3]
    assert "soft bounce score 1/5" in lines[4]

    with engine.connect() as connection:
        def rows(sql):
            return [tuple(row) for row in connection.execute(sa.text(sql)).all()]
        assert rows("SELECT email, reason FROM suppressions WHERE active ORDER BY email") == [
            ("ann@remote.example.net", "complaint"), ("dead@remote.example.net", "hard_bounce")]
        assert rows("SELECT email, kind FROM feedback ORDER BY email") == [
            ("ann@remote.example.net", "complaint"), ("dead@remote.example.net", "hard"),
            ("full@remote.example.net", "soft")]
        assert rows("SELECT email, score FROM bounce_scores") == [("full@remote.example.net", 1.0)]
        assert rows(f"SELECT e.kind FROM consent_events e JOIN subscribers s ON s.id = e.subscriber_id "
                    f"WHERE s.email = '{BOOM}' AND e.newsletter = '*'") == []
        (reason,), = rows("SELECT reason FROM kept_mail")
        assert reason.startswith("failed: ") and "refused by the test trigger" in reason
        assert rows("SELECT s.status FROM subscriptions s JOIN subscribers p ON p.id = s.subscriber_id "
                    "WHERE p.email = 'ann@remote.example.net'") == [("unsubscribed",)]
    engine.dispose()


def test_messages_arriving_together_share_a_commit(tmp_path):
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    ids = readers_with_deliveries(url, [f"r{n}@remote.example.net" for n in range(40)])
    engine = make_engine(url)
    commits = []
    sa.event.listen(engine, "commit", lambda connection: commits.append(1))
    settings = load_settings(settings_at(tmp_path))
    limits = ListenerLimits(workers=1)
    server = InboundServer(InboundHandler(feedback.accepts(settings), feedback.processor(
        settings, SECRET, make_sessionmaker(engine), utcnow), limits), "127.0.0.1", free_port(), limits)
    server.start()
    try:
        threads = [threading.Thread(target=_send, args=(server.port, [(e, i) for e, i in ids.items()][n::8], []))
                   for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM feedback WHERE kind = 'hard'")).scalar() == 40
    assert len(commits) < 40  # eight senders at once: the writer found several waiting
    engine.dispose()


def test_kill_9_loses_no_message_that_was_answered(tmp_path):
    port = free_port()
    config = settings_at(tmp_path, port)
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    ids = readers_with_deliveries(url, [f"r{n}@remote.example.net" for n in range(120)])
    work = list(ids.items())
    accepted: list[int] = []
    listener = start_cli("inbound", config=config)
    try:
        assert wait_until(lambda: _open(port)), listener.stderr.read() if listener.poll() is not None else "no listener"
        threads = [threading.Thread(target=_send, args=(port, work[n::8], accepted)) for n in range(8)]
        for thread in threads:
            thread.start()
        assert wait_until(lambda: len(accepted) >= 30, step=0.005)
        os.kill(listener.pid, signal.SIGKILL)  # mid-flood: some messages are being acted on, unanswered
        for thread in threads:
            thread.join()
    finally:
        listener.kill()
        listener.communicate(timeout=20)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        recorded = set(connection.execute(sa.text("SELECT delivery_id FROM feedback")).scalars())
    assert 30 <= len(accepted) < len(work) and set(accepted) <= recorded

    # The senders' MTAs retry what was not answered; what was recorded but unanswered counts once.
    listener = start_cli("inbound", config=config)
    try:
        assert wait_until(lambda: _open(port))
        _send(port, [(email, i) for email, i in work if i not in accepted], accepted)
    finally:
        listener.terminate()
        listener.communicate(timeout=20)
    with engine.connect() as connection:
        counts = connection.execute(sa.text("SELECT delivery_id, count(*) FROM feedback GROUP BY delivery_id")).all()
    assert sorted(accepted) == sorted(ids.values()) and dict(counts) == {i: 1 for i in ids.values()}
    engine.dispose()


def _send(port: int, work, accepted: list[int]) -> None:
    """A hard DSN for each (reader, delivery id), one connection; stops at the first error (a killed listener)."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            for email, delivery_id in work:
                client.sendmail("", [path_of(delivery_id)], dsn(path_of(delivery_id), email))
                accepted.append(delivery_id)  # answered 250
    except (smtplib.SMTPException, OSError):
        pass
