"""PostgreSQL, the store at scale: migrations, SKIP LOCKED claims, two workers sharing one issue.

Each test gets its own database, created and dropped here, because the server
at 127.0.0.1:5432 is shared by everything on the machine. Without that server
(or psycopg) these tests skip with the reason; CI's .ci/run starts it.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from conftest import DATA, import_readers, run_cli, start_cli, write_config


def test_migrations_build_the_models_schema(pg_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from digest.db import create_schema, make_engine
    from subscribers.db import Base

    engine = make_engine(pg_url)
    create_schema(engine)
    create_schema(engine)  # idempotent
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_migrations_0010_and_0011_fill_their_new_columns_for_existing_rows(pg_url):
    import json

    from alembic import command

    from digest.db import alembic_config, make_engine

    engine = make_engine(pg_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
        connection.execute(sa.text("INSERT INTO subscribers (id, email, created_at) VALUES "
                                   "(1, 'a@example.com', now()), (2, 'b@example.com', now()), "
                                   "(3, 'c@example.com', now())"))
        for issue_id, status in ((1, "sent"), (2, "sending")):
            connection.execute(sa.text("INSERT INTO issues (id, newsletter, slot, created_at, status, subject, html, "
                                       "text) VALUES (:id, 'daily', :slot, now(), :status, 's', 'h', 't')"),
                               {"id": issue_id, "slot": f"slot-{issue_id}", "status": status})
            for subscriber, state, attempts in ((1, "sent", 1), (2, "failed", 3), (3, "skipped", 0)):
                connection.execute(sa.text("INSERT INTO deliveries (issue_id, subscriber_id, email, status, attempts) "
                                           "VALUES (:i, :s, 'x@example.com', :state, :a)"),
                                   {"i": issue_id, "s": subscriber, "state": state, "a": attempts})
        connection.execute(sa.text("INSERT INTO review_drafts (newsletter, slot, slot_at, state, created_at, version, "
                                   "items, left_out, note) VALUES ('daily', 's', now(), 'review', now(), 1, '[]', "
                                   "'[]', '')"))
        command.upgrade(config, "head")
        # 0011: drafts made before it count as asked (no second review request after an upgrade).
        assert connection.execute(sa.text("SELECT asked_at = created_at FROM review_drafts")).scalar() is True
        frozen = dict(connection.execute(sa.text("SELECT id, final_counts FROM issues")).all())
        assert json.loads(frozen[1]) == {"queued": 0, "retrying": 0, "sent": 1, "failed": 1, "skipped": 1}
        assert frozen[2] is None  # still sending: counted live
        command.downgrade(config, "0009")
        command.upgrade(config, "head")
    engine.dispose()


def test_concurrent_claims_never_overlap(pg_url):
    from digest.deliver import outbox
    from digest.db import create_schema, make_engine, make_sessionmaker
    from digest.models import Delivery, Issue
    from subscribers.models import Subscriber

    engine = make_engine(pg_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    now = datetime(2026, 11, 24, tzinfo=timezone.utc)
    with sessions() as session, session.begin():
        issue = Issue(newsletter="daily", slot="s", subject="s", html="h", text="t", created_at=now)
        session.add(issue)
        session.add_all(Subscriber(email=f"r{i}@example.com", created_at=now) for i in range(30))
        session.flush()
        ids = session.scalars(sa.select(Subscriber.id)).all()
        session.add_all(Delivery(issue_id=issue.id, subscriber_id=i, email="x") for i in ids)
    first, second = sessions(), sessions()
    with first.begin(), second.begin():
        a = outbox.claim(first, issue.id, "a", now, timedelta(minutes=1), 20)
        b = outbox.claim(second, issue.id, "b", now, timedelta(minutes=1), 20)  # does not wait for `first`
    assert len(a) == 20 and len(b) == 10
    assert not {c.delivery_id for c in a} & {c.delivery_id for c in b}
    first.close(), second.close()
    engine.dispose()


def test_two_workers_share_one_issue_with_no_duplicates(pg_url, tmp_path, smtp_server):
    shutil.copy(DATA / "wire.xml", tmp_path / "wire.xml")
    config = write_config(tmp_path, smtp_port=smtp_server.port, delivery="batch_size = 10\nconnections = 2", sources="""
        [[newsletters.sources]]
        name = "Wire"
        url = "wire.xml"
        """)
    config.write_text(config.read_text().replace('url = "sqlite:///digest.db"', f'url = "{pg_url}"'))
    readers = [f"reader{i}@example.com" for i in range(200)]
    (tmp_path / "readers.csv").write_text("email\n" + "\n".join(readers) + "\n")
    import_readers(config)
    queued = run_cli("send", "daily", "--enqueue", config=config)
    assert queued.returncode == 0 and "queued for `digest worker`" in queued.stdout, queued.stderr
    assert smtp_server.messages == []

    smtp_server.delay = 0.005
    # Nothing is delivered until both workers have a connection at DATA (each holds at most 2): the first to
    # start cannot send all 200 before the other is up on a loaded machine. Their client waits that long.
    smtp_server.hold_until_peers = 3
    config.write_text(config.read_text().replace("timeout = 5.0", "timeout = 60.0"))
    workers = [start_cli("worker", "--once", config=config) for _ in range(2)]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs

    got = [m.rcpt_tos[0] for m in smtp_server.messages]
    assert sorted(got) == sorted(readers)  # every reader once: no gap, no duplicate
    sent_by = [int(out.split(" sent")[0].rsplit(" ", 1)[1]) for out, _err in outputs]
    assert sum(sent_by) == 200 and min(sent_by) > 0, sent_by  # both workers took part
    status = run_cli("status", "daily", config=config)
    assert "sent 200" in status.stdout and " sent " in status.stdout


def test_two_sends_racing_on_a_first_fetch_both_finish_cleanly(tmp_path, pg_url, smtp_server, feed_server):
    from conftest import run_cli, write_config
    from concurrent.futures import ThreadPoolExecutor

    items = "".join(f"<item><title>Story {n}</title><link>https://e.org/{n}</link><guid>race-{n}</guid>"
                    f"<description>Text {n}.</description></item>" for n in range(20))
    feed_server.routes["/race.xml"] = (200, {"Content-Type": "application/rss+xml"},
                                       f'<?xml version="1.0"?><rss version="2.0"><channel><title>R</title>'
                                       f"{items}</channel></rss>".encode())
    feed_server.delay = 0.5  # both requests are in flight together, so both store at the same moment
    config = write_config(tmp_path, smtp_port=smtp_server.port, sources=f"""
        [[newsletters.sources]]
        name = "Race"
        url = "{feed_server.url('/race.xml')}"
        """)
    config.write_text(config.read_text().replace('url = "sqlite:///digest.db"', f'url = "{pg_url}"'))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: run_cli("gather", config=config), range(2)))
    for result in results:
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert sum(int(r.stdout.split(" new")[0].rsplit(", ", 1)[-1]) for r in results) == 20  # each story once
