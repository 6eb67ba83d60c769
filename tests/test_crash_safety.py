"""kill -9 during `digest backup`, `digest restore` and `digest maintain` (issue 31): the database stays whole and
usable, and the same command run again finishes the work. Each test kills the real command at a point it is
known to have reached (a file it writes, a line it logs, a lock it waits for, a row count, a query on the
server), never after a guessed delay."""

from __future__ import annotations

import os
import signal
import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import SECRET, Clock, run_cli, start_cli, wait_until
from test_backup import people, populate, site

from digest.config import load_settings
from digest.db import make_engine, make_sessionmaker
from digest.deliver.transports import MemoryTransport
from digest.flows import backup, sending
from digest.flows.runtime import Runtime
from subscribers import Origin, add_subscriber

MB = 1 << 20


def ballast(url: str, megabytes: int) -> None:
    """Incompressible kept mail, so that each step of a backup or restore takes long enough to be caught in."""
    engine = make_engine(url)
    with engine.begin() as connection:
        for _ in range(megabytes):
            connection.execute(sa.text("INSERT INTO kept_mail (received_at, mail_from, recipients, reason, raw) "
                                       "VALUES (:at, '', '', 'ballast', :raw)"),
                               {"at": datetime.now(timezone.utc), "raw": os.urandom(MB)})
    engine.dispose()


def join(url: str, email: str) -> None:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        add_subscriber(session, email, "daily", confirmed=True, origin=Origin("test"))
    engine.dispose()


def url_of(config: Path) -> str:
    return load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET}).storage.url


def sqlite_whole(config: Path) -> None:
    """PRAGMA integrity_check says ok, and the daemon's own status command opens and reads the database."""
    path = make_engine(url_of(config)).url.database
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()
    status = run_cli("status", config=config)
    assert status.returncode == 0, status.stderr


def killed(proc) -> None:
    proc.kill()
    proc.communicate(timeout=30)  # drains and closes its pipes
    assert proc.returncode == -signal.SIGKILL, "the command finished before it could be killed"


def line_reached(proc, marker: str) -> bool:
    """Read the command's log (stderr) until `marker`; False if it ended first."""
    for line in proc.stderr:
        if marker in line:
            return True
    return False


def test_a_backup_killed_leaves_the_last_backup_whole_and_the_next_run_clears_its_leftovers(tmp_path):
    config = site(tmp_path / "live")
    populate(config, readers=40).sessions.kw["bind"].dispose()
    ballast(url_of(config), 48)
    out = tmp_path / "yesterday.tar.gz"  # the nightly timer's files are dated: each night a new name
    assert run_cli("backup", str(out), config=config).returncode == 0
    last = backup.read_manifest(out)
    join(url_of(config), "after@example.com")  # the next backup holds one reader more

    today = tmp_path / "today.tar.gz"
    proc = start_cli("backup", str(today), config=config)
    partial = tmp_path / ".digest-backup" / "archive.partial"

    def writing() -> bool:
        try:
            return partial.stat().st_size > 0 or proc.poll() is not None
        except FileNotFoundError:
            return proc.poll() is not None
    assert wait_until(writing, seconds=120, step=0.005)
    killed(proc)  # half an archive written
    assert partial.exists() and not today.exists()
    assert backup.read_manifest(out) == last  # the previous backup, whole
    backup.extract_payload(out, last, tmp_path)  # and its payload checks against its checksum
    sqlite_whole(config)

    tomorrow = tmp_path / "tomorrow.tar.gz"
    again = run_cli("backup", str(tomorrow), config=config, timeout=180)
    assert again.returncode == 0, again.stderr
    assert "left by a backup or restore that was stopped" in again.stderr  # today's leftovers cleared
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert backup.read_manifest(tomorrow).counts["subscribers"] == last.counts["subscribers"] + 1
    fresh = site(tmp_path / "fresh")
    assert run_cli("restore", str(tomorrow), config=fresh, timeout=180).returncode == 0
    assert people(url_of(fresh)) == people(url_of(config))


def test_a_restore_killed_leaves_the_database_as_it_was_and_runs_again(tmp_path):
    config = site(tmp_path / "live")
    populate(config).sessions.kw["bind"].dispose()
    out = tmp_path / "nightly.tar.gz"
    assert run_cli("backup", str(out), config=config).returncode == 0
    other = site(tmp_path / "other")  # a database with readers of its own, which --force would replace
    populate(other, readers=30).sessions.kw["bind"].dispose()
    before = people(url_of(other))
    path = make_engine(url_of(other)).url.database

    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # a writer in the middle of a transaction: the swap waits for it
    proc = start_cli("restore", "--force", str(out), config=other)
    assert line_reached(proc, "replacing"), "the restore ended before its last step"
    killed(proc)  # the new database made and migrated, the old one not yet replaced
    blocker.rollback()
    assert people(url_of(other)) == before
    sqlite_whole(other)

    refused = run_cli("restore", "--force", str(out), config=other)  # the blocker's connection is still open
    assert refused.returncode == 1 and "in use" in refused.stderr
    assert people(url_of(other)) == before
    blocker.close()
    again = run_cli("restore", "--force", str(out), config=other)
    assert again.returncode == 0, again.stderr
    assert "left by a backup or restore that was stopped" in again.stderr
    assert people(url_of(other)) == people(url_of(config))
    assert not [p.name for p in Path(path).parent.iterdir() if p.name.startswith(".")]
    sqlite_whole(other)


def test_maintenance_killed_keeps_what_it_removed_removed_and_goes_on_when_run_again(tmp_path):
    config = site(tmp_path / "live")
    now = datetime.now(timezone.utc)
    clock = Clock(now - timedelta(days=100))
    rt = replace(Runtime.create(load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})),
                 transport_factory=MemoryTransport, now=clock)
    with rt.sessions() as session, session.begin():
        for i in range(12):
            add_subscriber(session, f"r{i}@example.com", "daily", confirmed=True, origin=Origin("test"),
                           now=clock.now)
    old = sending.send_newsletter(rt, "daily", slot="s1").new_issue_id
    clock.now = now - timedelta(days=1)
    latest = sending.send_newsletter(rt, "daily", slot="s2", force=True).new_issue_id
    engine = rt.sessions.kw["bind"]
    with engine.begin() as connection:  # the old issue's outbox made as big as 7,000 readers' (4 batches)
        connection.execute(sa.text("INSERT INTO subscribers (email, created_at) VALUES (:e, :at)"),
                           [{"e": f"bulk{i}@example.com", "at": clock.now} for i in range(7000)])
        connection.execute(sa.text(
            "INSERT INTO deliveries (issue_id, subscriber_id, email, status, attempts, plain_text, sent_at) "
            "SELECT :issue, id, email, 'sent', 1, 0, :at FROM subscribers WHERE email LIKE 'bulk%'"),
            {"issue": old, "at": now - timedelta(days=100)})

    def rows(sql: str, **params) -> int:
        with engine.connect() as connection:
            return connection.scalar(sa.text(sql), params)
    total = rows("SELECT count(*) FROM deliveries WHERE issue_id = :i", i=old)
    kept = [rows(f"SELECT count(*) FROM {t}") for t in ("consent_events", "suppressions", "subscriptions")]
    frozen = rows("SELECT final_counts FROM issues WHERE id = :i", i=old)
    path = engine.url.database

    proc = start_cli("maintain", config=config)
    assert wait_until(lambda: rows("SELECT count(*) FROM deliveries WHERE issue_id = :i", i=old) < total
                      or proc.poll() is not None, seconds=60, step=0.005)
    blocker = sqlite3.connect(path, isolation_level=None, timeout=30)
    blocker.execute("BEGIN IMMEDIATE")  # the pruner's next batch waits for the write lock: it cannot finish
    left = rows("SELECT count(*) FROM deliveries WHERE issue_id = :i", i=old)
    killed(proc)
    blocker.rollback()
    blocker.close()
    assert 0 < left < total  # killed half way
    assert rows("SELECT count(*) FROM deliveries WHERE issue_id = :i", i=old) == left  # batches are whole
    assert [rows(f"SELECT count(*) FROM {t}") for t in ("consent_events", "suppressions", "subscriptions")] == kept
    sqlite_whole(config)

    again = run_cli("maintain", config=config)
    assert again.returncode == 0, again.stderr
    assert f"deliveries: {left} removed" in again.stdout
    assert rows("SELECT count(*) FROM deliveries WHERE issue_id = :i", i=old) == 0
    assert rows("SELECT count(*) FROM deliveries WHERE issue_id = :i", i=latest) == 12  # the latest keeps its rows
    assert rows("SELECT final_counts FROM issues WHERE id = :i", i=old) == frozen  # and the old one its counts
    assert [rows(f"SELECT count(*) FROM {t}") for t in ("consent_events", "suppressions", "subscriptions")] == kept
    engine.dispose()


WATCHERS: dict[str, sa.Engine] = {}


@pytest.fixture(autouse=True)
def close_watchers():
    yield
    while WATCHERS:
        WATCHERS.popitem()[1].dispose()


def server_shows(pg_url: str, condition: str) -> bool:
    """Whether a session on the test's database matches `condition` (pg_stat_activity's columns).

    One connection per database, kept open between looks, in autocommit (a transaction would see one frozen
    pg_stat_activity): a look is one query, not a new connection, so that a step lasting a fraction of a
    second (a COPY, the kept mail's INSERTs) is not missed between looks on a loaded machine."""
    if pg_url not in WATCHERS:
        WATCHERS[pg_url] = make_engine(pg_url)
    with WATCHERS[pg_url].connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return bool(connection.scalar(sa.text(
            f"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
            f"pg_backend_pid() AND {condition}")))


def test_a_restore_into_postgresql_killed_while_loading_rows_leaves_it_as_it_was(tmp_path, pg_url):
    config = site(tmp_path / "live")
    populate(config).sessions.kw["bind"].dispose()
    ballast(url_of(config), 24)
    out = tmp_path / "lite.tar.gz"
    assert run_cli("backup", str(out), config=config).returncode == 0
    pg = site(tmp_path / "pg", pg_url)
    populate(pg, readers=30).sessions.kw["bind"].dispose()
    before = people(pg_url)

    proc = start_cli("restore", "--force", str(out), config=pg)
    assert wait_until(lambda: server_shows(pg_url, "query ILIKE 'INSERT INTO kept_mail%'") or proc.poll() is not None,
                      seconds=120, step=0.01)
    killed(proc)  # the old tables dropped and half the rows in, all in one open transaction
    assert wait_until(lambda: not server_shows(pg_url, "query ILIKE 'INSERT INTO%'"))
    assert people(pg_url) == before
    assert run_cli("status", config=pg).returncode == 0

    again = run_cli("restore", "--force", str(out), config=pg, timeout=300)
    assert again.returncode == 0, again.stderr
    assert people(pg_url) == people(url_of(config))


def backed_up_on_postgresql(tmp_path: Path, pg_url: str) -> tuple[Path, Path]:
    config = site(tmp_path / "live", pg_url)
    populate(config).sessions.kw["bind"].dispose()
    ballast(pg_url, 24)
    out = tmp_path / "pg.tar.gz"
    assert run_cli("backup", str(out), config=config, timeout=180).returncode == 0
    return config, out


def test_a_pg_restore_killed_is_refused_by_every_command_until_restore_runs_again(tmp_path, pg_url):
    config, out = backed_up_on_postgresql(tmp_path, pg_url)
    assert backup.read_manifest(out).kind == "pg_dump"
    source = people(pg_url)

    proc = start_cli("restore", "--force", str(out), config=config)
    assert wait_until(lambda: server_shows(pg_url, "application_name = 'pg_restore' AND query ILIKE 'COPY%'")
                      or proc.poll() is not None, seconds=120, step=0.01)
    killed(proc)
    assert wait_until(lambda: not server_shows(pg_url, "application_name = 'pg_restore'"))  # it died with us
    status = run_cli("status", config=config)
    assert status.returncode == 1 and "did not finish" in status.stderr and "digest restore" in status.stderr

    again = run_cli("restore", str(out), config=config, timeout=300)  # no --force: it finishes its own work
    assert again.returncode == 0, again.stderr
    assert people(pg_url) == source
    assert run_cli("status", config=config).returncode == 0


def test_a_pg_dump_backup_killed_leaves_the_last_backup_whole(tmp_path, pg_url):
    config, out = backed_up_on_postgresql(tmp_path, pg_url)
    last = backup.read_manifest(out)

    proc = start_cli("backup", str(out), config=config)
    assert wait_until(lambda: server_shows(pg_url, "application_name = 'pg_dump' AND query ILIKE 'COPY%'")
                      or proc.poll() is not None, seconds=120, step=0.01)
    killed(proc)
    assert wait_until(lambda: not server_shows(pg_url, "application_name = 'pg_dump'"))  # it died with us
    assert backup.read_manifest(out) == last
    assert run_cli("status", config=config).returncode == 0
    again = run_cli("backup", str(out), config=config, timeout=180)
    assert again.returncode == 0 and "left by a backup or restore that was stopped" in again.stderr, again.stderr
    assert backup.read_manifest(out).counts == last.counts
