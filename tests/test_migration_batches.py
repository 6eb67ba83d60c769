"""A migration's data step on a big table (issue 31): it says so with the row count, and runs in batches, on
SQLite and PostgreSQL; every row still comes out right."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from digest.db import alembic_config, create_schema, make_engine
from digest.migrations import batched

ROWS = 120_000


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migration_0012_on_a_big_feedback_table_says_how_many_rows_and_runs_in_batches(dialect, request, tmp_path,
                                                                                        caplog):
    engine = make_engine(f"sqlite:///{tmp_path / 'big.db'}" if dialect == "sqlite" else
                         request.getfixturevalue("pg_url"))
    try:
        migrate_a_big_table(engine, caplog)
    finally:
        engine.dispose()


def migrate_a_big_table(engine, caplog) -> None:
    from alembic import command

    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0011")
        at = datetime(2025, 6, 1, tzinfo=timezone.utc)
        connection.execute(sa.text(
            "INSERT INTO feedback (email, kind, status, reporting_mta, diagnostic, action, at) "
            "VALUES (:email, :kind, '5.1.1', 'mx', '', '', :at)"),
            [{"email": f"Reader{i}@Example{i % 7}.ORG" if i % 1000 else "no-at-sign", "kind": "hard" if i % 3 else
              "soft", "at": at} for i in range(ROWS)])
    updates = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: updates.append(statement)
                    if statement.startswith("UPDATE feedback") else None)
    with caplog.at_level(logging.INFO, logger="digest.migrations"):
        create_schema(engine)
    said = [r.getMessage() for r in caplog.records if r.name == "digest.migrations"]
    touched = sum(1 for i in range(ROWS) if i % 1000 or i % 3)  # an address, or a hard bounce
    assert said[0] == f"migration 0012: {touched:,} rows of feedback to update, in batches of 20,000: this takes a while"
    assert said[1].startswith(f"migration 0012: {touched:,} rows of feedback updated in 6 batches in ")
    assert len(updates) == ROWS // batched.BATCH == 6
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT domain, side FROM feedback WHERE email = 'Reader1@Example1.ORG'"
                                          )).one() == ("example1.org", "reader")
        assert connection.execute(sa.text("SELECT domain, side FROM feedback WHERE email = 'Reader3@Example3.ORG'"
                                          )).one() == ("example3.org", "")  # soft: no side said
        assert connection.scalar(sa.text("SELECT count(*) FROM feedback WHERE domain = '' AND email LIKE '%@%'")) == 0
        assert connection.scalar(sa.text("SELECT count(*) FROM feedback WHERE side = 'reader'")) == \
            sum(1 for i in range(ROWS) if i % 3)


def test_a_small_table_is_updated_without_a_word():
    engine = make_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        connection.execute(sa.text("INSERT INTO t (v) VALUES ('a'), ('b')"))
        assert batched.update_in_batches(connection, "0000", "t", "v = upper(v)", "1 = 1") == 1
        assert connection.execute(sa.text("SELECT v FROM t ORDER BY id")).scalars().all() == ["A", "B"]
