"""Backup and restore (issue 31): a snapshot taken while a writer writes restores to the same readers, consents
and suppressions, on SQLite and PostgreSQL, across the two, and from an older schema."""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA, SECRET, run_cli, write_config

from digest.config import load_settings
from digest.db import alembic_config, make_engine, make_sessionmaker
from digest.deliver.transports import MemoryTransport
from digest.flows import backup, restore, sending
from digest.flows.runtime import Runtime
from subscribers import Origin, add_subscriber, remove_subscriber
from subscribers.suppression import suppress

SOURCE = '[[newsletters.sources]]\nname = "Wire"\nurl = "feed.xml"\n'
T0 = datetime(2026, 3, 1, 7, 0, tzinfo=timezone.utc)


def site(folder: Path, url: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "wire.xml", folder / "feed.xml")
    config = write_config(folder, transport="file", sources=SOURCE)
    if url:
        config.write_text(config.read_text().replace('url = "sqlite:///digest.db"', f'url = "{url}"'))
    return config


def populate(config: Path, readers: int = 120) -> Runtime:
    """Readers (confirmed, some gone, some suppressed), their consent records, and one sent issue."""
    settings = load_settings(config, environ={"DIGEST_SECRET_KEY": SECRET})
    transport = MemoryTransport()
    rt = replace(Runtime.create(settings), transport_factory=lambda: transport)
    with rt.sessions() as session, session.begin():
        for i in range(readers):
            add_subscriber(session, f"reader{i}@example.com", "daily", confirmed=True, origin=Origin("test", "192.0.2.7"),
                           now=T0 + timedelta(minutes=i))
        for i in range(0, readers, 10):
            remove_subscriber(session, f"reader{i}@example.com", "daily", Origin("test"), now=T0 + timedelta(days=1))
        for i in range(5, readers, 25):
            suppress(session, f"reader{i}@example.com", "hard_bounce", "550 5.1.1 no such user", Origin("test"),
                     T0 + timedelta(days=2))
    assert sending.send_newsletter(rt, "daily", slot="s1").new_issue_id
    return rt


def people(url: str) -> dict[str, set[tuple]]:
    """What a restore must give back, row for row (ids included: the links in mail already sent name them)."""
    engine = make_engine(url)
    queries = {
        "readers": "SELECT id, email, created_at FROM subscribers",
        "subscriptions": "SELECT id, subscriber_id, newsletter, status, created_at, confirmed_at, unsubscribed_at, "
                         "paused_until, plain_text, sections, frequency FROM subscriptions",
        "consent": "SELECT id, subscriber_id, newsletter, kind, at, ip, user_agent, detail FROM consent_events",
        "suppressions": "SELECT id, email, active, reason, detail, created_at, lifted_at FROM suppressions",
    }
    try:
        with engine.connect() as connection:
            return {name: {tuple(_plain(v) for v in row) for row in connection.execute(sa.text(sql))}
                    for name, sql in queries.items()}
    finally:
        engine.dispose()


def _plain(value):
    """The same moment is the same value whichever database handed it back (SQLite: text)."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?", value):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value).astimezone(timezone.utc)
    return value


class Writer(threading.Thread):
    """New readers signing up, one transaction each (a reader and their consent event), until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self.stop = threading.Event()
        self.written = 0

    def run(self) -> None:
        while not self.stop.is_set():
            with self.sessions() as session, session.begin():
                add_subscriber(session, f"late{self.written}@example.com", "daily", confirmed=True,
                               origin=Origin("writer"))
            self.written += 1

    def finish(self) -> int:
        self.stop.set()
        self.join(timeout=30)
        self.engine.dispose()
        return self.written


def backup_while_writing(config: Path, out: Path, *args: str) -> tuple[int, int]:
    url = load_settings(config).storage.url
    writer = Writer(url)
    writer.start()
    while writer.written < 5:
        pass
    before = writer.written
    done = run_cli("backup", str(out), *args, config=config)
    after = writer.finish()
    assert done.returncode == 0, done.stderr
    assert after > before, "the writer must have written while the backup ran"
    return before, after


def check_restored(source: dict[str, set[tuple]], restored_url: str, manifest: backup.Manifest) -> None:
    """Every restored row is the source's row, and the snapshot is one moment: a reader and their consent
    events are there together or not at all."""
    restored = people(restored_url)
    for name in source:
        assert restored[name] <= source[name], name
    assert len(restored["readers"]) == manifest.counts["subscribers"]
    assert len(restored["consent"]) == manifest.counts["consent_events"]
    assert len(restored["suppressions"]) == manifest.counts["suppressions"] > 0
    ids = {row[0] for row in restored["readers"]}
    assert {row for row in source["consent"] if row[1] in ids} == restored["consent"]
    assert {row for row in source["subscriptions"] if row[1] in ids} == restored["subscriptions"]
    assert {f"reader{i}@example.com" for i in range(120)} <= {row[1] for row in restored["readers"]}


def test_backup_while_writing_restores_the_same_readers_consents_and_suppressions_on_sqlite(tmp_path):
    config = site(tmp_path / "live")
    populate(config)
    out = tmp_path / "nightly.tar.gz"
    backup_while_writing(config, out)
    manifest = backup.read_manifest(out)
    assert manifest.kind == "sqlite" and manifest.schema == restore.head_revision()
    assert manifest.counts["deliveries"] > 0 and manifest.counts["issues"] == 1
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    fresh = site(tmp_path / "fresh")
    done = run_cli("restore", str(out), config=fresh)
    assert done.returncode == 0, done.stderr
    assert "rows checked against the manifest" in done.stdout
    check_restored(people(load_settings(config).storage.url), load_settings(fresh).storage.url, manifest)

    again = run_cli("restore", str(out), config=fresh)  # now it holds rows: refused without --force
    assert again.returncode == 1 and "not empty" in again.stderr and "--force" in again.stderr
    assert run_cli("restore", str(out), "--force", config=fresh).returncode == 0
    # The restored database works: the daemon's own command reads it.
    status = run_cli("status", config=fresh)
    assert status.returncode == 0 and "#1 daily" in status.stdout


def test_a_damaged_or_foreign_backup_is_refused_before_anything_is_touched(tmp_path):
    config = site(tmp_path / "live")
    populate(config, readers=10)
    out = tmp_path / "b.tar.gz"
    assert run_cli("backup", str(out), config=config).returncode == 0
    manifest = backup.read_manifest(out)
    work = tmp_path / "unpacked"
    work.mkdir()
    payload = backup.extract_payload(out, manifest, work)
    payload.write_bytes(payload.read_bytes()[:-1] + b"\0")
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as archive:
        data = manifest.to_json()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
        archive.add(payload, arcname=payload.name)
    fresh = site(tmp_path / "fresh")
    done = run_cli("restore", str(damaged), config=fresh)
    assert done.returncode == 1 and "checksum" in done.stderr
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    done = run_cli("restore", str(not_a_backup), config=fresh)
    assert done.returncode == 1 and "not a digest backup" in done.stderr
    assert not (tmp_path / "fresh" / "digest.db").exists()


def test_a_backup_of_an_older_schema_is_migrated_on_restore(tmp_path):
    from alembic import command

    old = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config_ = alembic_config()
    with old.begin() as connection:
        config_.attributes["connection"] = connection
        command.upgrade(config_, "0012")
        connection.execute(sa.text("INSERT INTO subscribers (id, email, created_at) VALUES "
                                   "(1, 'old@example.com', '2025-01-01 00:00:00.000000')"))
        connection.execute(sa.text("INSERT INTO subscriptions (id, subscriber_id, newsletter, status, created_at, "
                                   "confirmed_at) VALUES (1, 1, 'daily', 'confirmed', "
                                   "'2025-01-01 00:00:00.000000', '2025-01-01 00:00:00.000000')"))
    out = tmp_path / "old.tar.gz"
    manifest = backup.take(old, out, T0)
    old.dispose()
    assert manifest.schema == "0012"
    target = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    done = restore.restore(target, out)
    assert done.migrated_from == "0012" and done.schema == restore.head_revision()
    with target.connect() as connection:
        assert connection.execute(sa.text("SELECT newsletter, frequency FROM subscriptions")).all() == [("daily", "each")]
    target.dispose()


@pytest.mark.parametrize("logical", [False, True], ids=["pg_dump", "logical"])
def test_backup_while_writing_restores_the_same_readers_on_postgresql(tmp_path, pg_url, logical):
    config = site(tmp_path / "live", pg_url)
    populate(config).sessions.kw["bind"].dispose()
    out = tmp_path / "pg.tar.gz"
    backup_while_writing(config, out, *(["--logical"] if logical else []))
    manifest = backup.read_manifest(out)
    assert manifest.kind == ("logical" if logical else "pg_dump")
    source = people(pg_url)  # then the database is replaced by its own backup (one database a test)
    refused = run_cli("restore", str(out), config=config)
    assert refused.returncode == 1 and "not empty" in refused.stderr
    done = run_cli("restore", str(out), "--force", config=config)
    assert done.returncode == 0, done.stderr
    check_restored(source, pg_url, manifest)
    assert source["readers"] != people(pg_url)["readers"]  # the rows the writer added after the snapshot are gone
    # The ids go on after the restored ones: a new reader can join.
    engine = make_engine(pg_url)
    with make_sessionmaker(engine)() as session, session.begin():
        add_subscriber(session, "after@example.com", "daily", confirmed=True, origin=Origin("test"))
    engine.dispose()


def test_sqlite_backup_restores_into_postgresql_and_back(tmp_path, pg_url):
    config = site(tmp_path / "live")
    populate(config).sessions.kw["bind"].dispose()
    out = tmp_path / "lite.tar.gz"
    assert run_cli("backup", str(out), config=config).returncode == 0
    manifest = backup.read_manifest(out)
    pg = site(tmp_path / "pg", pg_url)
    done = run_cli("restore", str(out), config=pg)
    assert done.returncode == 0 and "by rows" in done.stdout, done.stderr
    check_restored(people(load_settings(config).storage.url), pg_url, manifest)
    back = tmp_path / "pg.tar.gz"
    assert run_cli("backup", str(back), "--logical", config=pg).returncode == 0
    lite = site(tmp_path / "lite")
    assert run_cli("restore", str(back), config=lite).returncode == 0
    assert people(load_settings(lite).storage.url) == people(load_settings(config).storage.url)


def test_the_readers_alone_restore_into_an_empty_database_and_read_as_json_lines(tmp_path):
    config = site(tmp_path / "live")
    populate(config).sessions.kw["bind"].dispose()
    out = tmp_path / "readers.tar.gz"
    done = run_cli("backup", "--readers", str(out), config=config)
    assert done.returncode == 0, done.stderr
    manifest = backup.read_manifest(out)
    assert manifest.kind == "readers" and "deliveries" not in manifest.counts
    with tarfile.open(out) as archive:  # the documented format, read without digest
        lines = archive.extractfile("readers.jsonl").read().decode().splitlines()
    headers = [json.loads(line) for line in lines if line.startswith("{")]
    assert {h["table"] for h in headers} == {"subscribers", "subscriptions", "optin_tokens", "consent_events",
                                             "suppressions", "bounce_scores", "alembic_version"}
    assert dict(zip(headers[0]["columns"], headers[0]["types"]))["id"] == "integer"
    fresh = site(tmp_path / "fresh")
    assert run_cli("restore", str(out), config=fresh).returncode == 0
    url = load_settings(fresh).storage.url
    assert people(url) == people(load_settings(config).storage.url)
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM deliveries")) == 0
    engine.dispose()


def test_yesterdays_backup_restored_into_a_fresh_installation_gives_the_same_readers_consents_and_suppressions(
        tmp_path):
    """The issue's 'done when': the nightly backup, then a day of changes on the live site, then that backup
    restored into an empty database in another directory: readers, subscriptions, consent events and
    suppressions equal, row for row, to what they were when it was taken (and not today's)."""
    config = site(tmp_path / "live")
    rt = populate(config)
    out = tmp_path / "yesterday.tar.gz"
    assert run_cli("backup", str(out), config=config).returncode == 0
    yesterday = people(load_settings(config).storage.url)
    with rt.sessions() as session, session.begin():  # today: a new reader, one leaves, one more suppressed
        add_subscriber(session, "today@example.com", "daily", confirmed=True, origin=Origin("test"))
        remove_subscriber(session, "reader1@example.com", "daily", Origin("test"))
        suppress(session, "reader2@example.com", "complaint", "abuse report", Origin("test"), T0 + timedelta(days=3))
    rt.sessions.kw["bind"].dispose()
    assert people(load_settings(config).storage.url) != yesterday

    fresh = site(tmp_path / "elsewhere" / "clone")
    done = run_cli("restore", str(out), config=fresh)
    assert done.returncode == 0, done.stderr
    restored = people(load_settings(fresh).storage.url)
    for name in ("readers", "subscriptions", "consent", "suppressions"):
        assert restored[name] == yesterday[name], name
    assert len(restored["consent"]) > len(restored["readers"]) and restored["suppressions"]
    assert run_cli("status", config=fresh).returncode == 0
