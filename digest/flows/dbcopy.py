"""Every table of a database as plain rows, and back: the logical backup format and any-to-any restores.

A backup must be readable by a digest whose models have moved on, and by
other tools, so rows are read and written through the tables as the database
itself describes them (reflection), never through today's models. The file is
JSON Lines: a header object per table, then one JSON array per row. Times are
ISO 8601 in UTC with their offset, binary columns base64; the header names
each column's type so a reader needs nothing else.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone
from typing import IO

from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, select, text
from sqlalchemy import types as sqltypes

VERSION_TABLE = "alembic_version"
CHUNK = 1000  # rows per INSERT and per fetch: memory stays flat however big a table is
# The audience alone: who reads what, the proof of their consent, who must never get mail (`backup --readers`).
READER_TABLES = ("subscribers", "subscriptions", "optin_tokens", "consent_events", "suppressions", "bounce_scores")


def schema_version(connection: Connection) -> str | None:
    """The Alembic revision the database is at (None: never migrated)."""
    if VERSION_TABLE not in inspect(connection).get_table_names():
        return None
    return connection.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))


def reflect(connection: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(connection)
    return metadata


def data_tables(metadata: MetaData) -> list[Table]:
    """The tables in foreign-key order (parents first), the migration bookkeeping included last."""
    tables = [t for t in metadata.sorted_tables if t.name != VERSION_TABLE]
    return tables + [t for t in metadata.sorted_tables if t.name == VERSION_TABLE]


def row_counts(connection: Connection) -> dict[str, int]:
    return {table.name: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in data_tables(reflect(connection))}


def is_empty(engine: Engine) -> bool:
    """No row in any table (a schema made by the migrations alone counts as empty)."""
    with engine.connect() as connection:
        metadata = reflect(connection)
        return all(connection.scalar(select(text("1")).select_from(table).limit(1)) is None
                   for table in data_tables(metadata) if table.name != VERSION_TABLE)


def drop_everything(connection: Connection) -> None:
    """Only ever called on a database the operator chose to replace (empty, or --force)."""
    metadata = reflect(connection)
    metadata.drop_all(connection)


def _kind(column_type) -> str:
    for kind, cls in (("boolean", sqltypes.Boolean), ("datetime", sqltypes.DateTime), ("date", sqltypes.Date),
                      ("integer", sqltypes.Integer), ("float", sqltypes.Float), ("numeric", sqltypes.Numeric),
                      ("binary", sqltypes._Binary)):
        if isinstance(column_type, cls):
            return kind
    return "text"


def _encode(value, kind: str):
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, datetime):
        # SQLite hands back naive times; every time digest stores is UTC.
        return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value).isoformat()
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    if kind == "binary":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "boolean":
        return bool(value)
    return value


def _decode(value, kind: str):
    if value is None:
        return None
    if kind == "datetime":
        return datetime.fromisoformat(value).astimezone(timezone.utc)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "binary":
        return base64.b64decode(value)
    return value


Block = tuple[str, list[str], list[str], Iterable[list]]  # table, columns, kinds, rows (encoded)


def read_tables(connection: Connection, only: Iterable[str] | None = None) -> Iterator[Block]:
    """Every table's rows (or those of `only`), encoded, in foreign-key order; the caller's transaction decides
    what snapshot."""
    for table in data_tables(reflect(connection)):
        if only is not None and table.name not in only and table.name != VERSION_TABLE:
            continue
        columns = [c.name for c in table.columns]
        kinds = [_kind(c.type) for c in table.columns]
        order = list(table.primary_key.columns) or list(table.columns)
        yield table.name, columns, kinds, _rows(connection, table, kinds, order)


def _rows(connection: Connection, table: Table, kinds: list[str], order) -> Iterator[list]:
    result = connection.execution_options(stream_results=True, yield_per=CHUNK).execute(
        select(table).order_by(*order))
    for row in result:
        yield [_encode(value, kind) for value, kind in zip(row, kinds)]


def write_jsonl(blocks: Iterable[Block], out: IO[bytes]) -> dict[str, int]:
    """The blocks as JSON Lines; returns the rows written per table."""
    counts = {}
    for name, columns, kinds, rows in blocks:
        out.write(json.dumps({"table": name, "columns": columns, "types": kinds}).encode() + b"\n")
        n = 0
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            n += 1
        counts[name] = n
    return counts


def read_jsonl(lines: IO[bytes]) -> Iterator[Block]:
    """Blocks back from JSON Lines; each block's rows must be read before the next block is asked for."""
    pending = lines.readline()
    while pending:
        header = json.loads(pending)
        pending = b""

        def rows():
            nonlocal pending
            for line in lines:
                if line.startswith(b"{"):
                    pending = line
                    return
                yield json.loads(line)

        yield header["table"], header["columns"], header["types"], rows()
        if not pending:  # the caller read the rows up to the next header (or the end)
            pending = lines.readline()


def load_tables(connection: Connection, blocks: Iterable[Block]) -> dict[str, int]:
    """Insert every block into the tables of the same name (the schema must be at the backup's version).

    The migration bookkeeping is not copied: the caller put the schema at the
    backup's version already. Columns the backup has and the table lacks are
    an error, never silently dropped.
    """
    metadata = reflect(connection)
    counts = {}
    for name, columns, _kinds, rows in blocks:
        if name == VERSION_TABLE:
            for _row in rows:
                pass
            continue
        table = metadata.tables.get(name)
        if table is None or set(columns) - set(table.columns.keys()):
            raise ValueError(f"the backup's table {name} does not fit this database's schema")
        kinds = [_kind(table.columns[c].type) for c in columns]
        n, chunk = 0, []
        for row in rows:
            chunk.append({c: _decode(v, k) for c, v, k in zip(columns, row, kinds)})
            if len(chunk) >= CHUNK:
                connection.execute(table.insert(), chunk)
                n, chunk = n + len(chunk), []
        if chunk:
            connection.execute(table.insert(), chunk)
            n += len(chunk)
        counts[name] = n
    if connection.dialect.name == "postgresql":
        _advance_sequences(connection, metadata)
    return counts


def _advance_sequences(connection: Connection, metadata: MetaData) -> None:
    """Rows came with their ids: each id sequence must start after them, or the next insert collides."""
    for table in data_tables(metadata):
        for column in table.primary_key.columns:
            sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                         {"t": table.name, "c": column.name})
            if sequence:
                connection.execute(text(f'SELECT setval(:s, COALESCE((SELECT max("{column.name}") FROM '
                                        f'"{table.name}"), 0) + 1, false)'), {"s": sequence})
