"""Upgrades never lose a reader (issue 31): from every earlier schema, with a row in every table, the migrations
reach this version's schema on SQLite and PostgreSQL, every row is still there, and today's models read them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import types as sqltypes
from sqlalchemy.orm import Session

from digest.db import alembic_config, create_schema, make_engine
from digest.flows import dbcopy
from digest.models import Delivery, Issue
from subscribers.models import ConsentEvent, Subscriber, Subscription, Suppression

AT = datetime(2025, 6, 1, 8, 0, tzinfo=timezone.utc)
# Columns whose values later code reads as one of a few words.
WORDS = {("issues", "status"): "sent", ("deliveries", "status"): "sent", ("subscriptions", "status"): "confirmed",
         ("issues", "kind"): "issue", ("subscriptions", "frequency"): "each", ("feedback", "kind"): "hard",
         ("operators", "role"): "admin", ("review_drafts", "state"): "sent", ("suppressions", "reason"): "complaint"}


def revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))][:-1]  # every one before the head


def _value(table: sa.Table, column: sa.Column):
    if (table.name, column.name) in WORDS:
        return WORDS[table.name, column.name]
    if column.foreign_keys or column.primary_key and isinstance(column.type, sqltypes.Integer):
        return 1
    for cls, value in ((sqltypes.Boolean, False), (sqltypes.DateTime, AT), (sqltypes.Date, AT.date()), (sqltypes.Integer, 1),
                       (sqltypes.Float, 1.0), (sqltypes._Binary, b"raw mail"), (sqltypes.Text, "{}")):
        if isinstance(column.type, cls):
            return value
    if column.name == "email":
        return f"reader@{table.name.replace('_', '-')}.example.com"
    return "x" if getattr(column.type, "length", None) and column.type.length < 20 else f"{table.name} row"


def fill_every_table(connection) -> dict[str, int]:
    """One row a table, parents first, every foreign key pointing at the parents' row 1."""
    metadata = dbcopy.reflect(connection)
    for table in dbcopy.data_tables(metadata):
        if table.name != dbcopy.VERSION_TABLE:
            connection.execute(table.insert().values({c.name: _value(table, c) for c in table.columns}))
    return dbcopy.row_counts(connection)


def upgrade_from(engine: sa.Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        dbcopy.drop_everything(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        before = fill_every_table(connection)
    create_schema(engine)
    with engine.connect() as connection:
        after = dbcopy.row_counts(connection)
    lost = {name: (n, after.get(name)) for name, n in before.items() if after.get(name) != n}
    assert not lost, f"from {revision}: rows lost or added {lost}"
    with Session(engine) as session:  # today's models read yesterday's rows
        reader = session.scalars(sa.select(Subscriber)).one()
        assert reader.email.startswith("reader@")
        assert session.scalars(sa.select(Subscription)).one().status.value == "confirmed"
        assert session.scalars(sa.select(ConsentEvent)).one().at == AT
        assert session.scalars(sa.select(Issue)).one().status.value == "sent"
        assert session.scalars(sa.select(Delivery)).one().sent_at == AT
        assert len(session.scalars(sa.select(Suppression)).all()) == (revision >= "0008")


@pytest.mark.parametrize("revision", revisions())
def test_every_earlier_schema_with_data_upgrades_on_sqlite(tmp_path, revision):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade_from(engine, revision)
    finally:
        engine.dispose()


def test_every_earlier_schema_with_data_upgrades_on_postgresql(pg_url):
    engine = make_engine(pg_url)
    try:
        for revision in revisions():
            upgrade_from(engine, revision)
    finally:
        engine.dispose()
