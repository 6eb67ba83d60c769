"""`digest status` on the database itself (issue 31): schema and pending migrations, size, largest tables, the
free disk under SQLite; a database a newer digest migrated is refused with a clear message."""

from __future__ import annotations

import os
import re
import shutil

import sqlalchemy as sa
from conftest import DATA, run_cli, write_config

from digest.db import alembic_config, create_schema, make_engine
from digest.flows import health
from digest.settings import StorageSettings

SOURCE = '[[newsletters.sources]]\nname = "Wire"\nurl = "feed.xml"\n'


def site(tmp_path, storage: str = ""):
    shutil.copy(DATA / "wire.xml", tmp_path / "feed.xml")
    config = write_config(tmp_path, transport="file", sources=SOURCE)
    if storage:
        config.write_text(config.read_text().replace('url = "sqlite:///digest.db"\n',
                                                     f'url = "sqlite:///digest.db"\n{storage}\n'))
    return config


def test_status_shows_the_schema_the_migrations_it_applied_the_size_and_the_largest_tables(tmp_path):
    from alembic import command

    config = site(tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'digest.db'}")
    with engine.begin() as connection:
        settings = alembic_config()
        settings.attributes["connection"] = connection
        command.upgrade(settings, "0012")
    engine.dispose()
    done = run_cli("status", config=config)
    assert done.returncode == 0, done.stderr
    head = health.head_revision()
    assert f"database: schema {head} (current)" in done.stdout
    assert f"migrated from schema 0012 to {head} by this command" in done.stdout
    assert "largest tables:" in done.stdout and "free on its disk" in done.stdout
    assert "WARNING" not in done.stdout
    again = run_cli("status", config=config)
    assert "migrated" not in again.stdout


def test_a_disk_short_of_min_free_mb_is_a_warning(tmp_path):
    config = site(tmp_path, "min_free_mb = 1000000000")
    done = run_cli("status", config=config)
    assert done.returncode == 0
    assert "WARNING: only" in done.stdout and "storage.min_free_mb = 1000000000" in done.stdout


def test_a_database_a_newer_digest_migrated_is_refused_with_a_clear_message(tmp_path):
    config = site(tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'digest.db'}")
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    done = run_cli("status", config=config)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "has a schema this digest does not know" in done.stderr and "newer digest" in done.stderr


def test_postgresql_size_and_largest_tables(pg_url):
    engine = make_engine(pg_url)
    create_schema(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO kept_mail (received_at, mail_from, recipients, reason, raw) "
                                   "VALUES (now(), '', '', 'test', :raw)"), {"raw": os.urandom(300_000)})  # incompressible
    state = health.check(engine, StorageSettings(url=pg_url))
    engine.dispose()
    assert not state.pending and state.size_bytes > 1_000_000 and state.free_bytes is None
    assert state.tables[0][0] == "kept_mail" and len(state.tables) == 5
    assert health.lines(state)[0].startswith(f"database: schema {state.head} (current), ")


def test_the_console_shows_the_database_and_the_dashboard_warns_when_the_disk_runs_short(tmp_path, smtp_server):
    from dataclasses import replace

    from starlette.testclient import TestClient
    from test_console import PASSWORD, login, make_console

    from digest.web.admin import accounts
    from digest.web.app import create_app

    settings, rt, clock = make_console(tmp_path, smtp_server.port)
    with rt.sessions() as session, session.begin():
        accounts.add_operator(session, "ann", "admin", PASSWORD, clock())
        accounts.add_operator(session, "ed", "editor", PASSWORD, clock())
        session.execute(sa.text("INSERT INTO kept_mail (received_at, mail_from, recipients, reason, raw) "
                                "VALUES (:at, '', '', 'test', :raw)"), {"at": clock(), "raw": os.urandom(400_000)})
    short = replace(settings, storage=replace(settings.storage, min_free_mb=1_000_000_000))
    for current, warned in ((settings, False), (short, True)):
        with TestClient(create_app(current, rt.sessions, rt.transport_factory, now=clock),
                        base_url="https://gazette.example.org") as client:
            login(client)
            page = client.get("/admin/database")
            assert page.status_code == 200
            assert "Largest tables" in page.text and f"<dd>{health.head_revision()}</dd>" in page.text
            assert "none pending" in page.text and "Free on its disk" in page.text
            first = re.search(r"<tbody><tr><td>(\w+)</td><td class=\"num\">([\d.]+) kB", page.text)
            assert first and first.group(1) == "kept_mail" and float(first.group(2)) > 390
            dashboard = client.get("/admin")
            assert ("free on the disk holding" in dashboard.text) is warned
            assert ('role="alert">only' in page.text) is warned
            if warned:
                assert 'href="/admin/database">only' in dashboard.text
            login(client, "ed")
            assert client.get("/admin/database").status_code == 403  # an editor sees no database page
    rt.sessions.kw["bind"].dispose()
