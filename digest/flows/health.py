"""What `digest status` says about the database itself: its schema, its size, its largest tables, its disk.

A tool left alone for a year fails by growing, not by crashing: these are
the numbers an operator looks at once a month, and the one warning (a SQLite
disk filling up) that must come before the database stops taking writes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from digest.flows import dbcopy
from digest.flows.backup import sqlite_path
from digest.flows.restore import head_revision
from digest.settings import StorageSettings

MB = 1024 * 1024


@dataclass(frozen=True)
class Health:
    schema: str | None
    head: str
    size_bytes: int
    tables: list[tuple[str, int]] = field(default_factory=list)  # (table, bytes with its indexes), largest first
    free_bytes: int | None = None  # on the disk holding a SQLite database
    warnings: list[str] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.schema != self.head


def schema_of(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return dbcopy.schema_version(connection)


def check(engine: Engine, storage: StorageSettings, *, top: int = 5) -> Health:
    with engine.connect() as connection:
        schema = dbcopy.schema_version(connection)
        if connection.dialect.name == "postgresql":
            size, tables = _postgres(connection, top)
        else:
            size, tables = _sqlite(connection, top)
    path = sqlite_path(engine)
    if path is not None:
        size += sum(p.stat().st_size for p in (path.with_name(path.name + "-wal"),) if p.exists())
    free, warnings = disk(engine, storage)
    head = head_revision()
    if schema != head:
        warnings.append(f"the database's schema is {schema}, this digest's is {head}")
    return Health(schema, head, size, tables, free, warnings)


def disk(engine: Engine, storage: StorageSettings) -> tuple[int | None, list[str]]:
    """The free space on the disk holding a SQLite database, and the warning when it is below
    storage.min_free_mb (cheap: one statfs, for the console's dashboard on every load)."""
    path = sqlite_path(engine)
    if path is None:
        return None, []
    free = shutil.disk_usage(path.parent).free
    if storage.min_free_mb and free < storage.min_free_mb * MB:
        return free, [f"only {free / MB:,.0f} MB free on the disk holding {path} (storage.min_free_mb = "
                      f"{storage.min_free_mb}): SQLite stops taking writes when it is full; free space, "
                      "shorten [retention] or move the database"]
    return free, []


def _postgres(connection, top: int) -> tuple[int, list[tuple[str, int]]]:
    size = connection.scalar(text("SELECT pg_database_size(current_database())")) or 0
    rows = connection.execute(text(
        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE c.relkind = 'r' AND n.nspname = current_schema() ORDER BY 2 DESC LIMIT :top"),
        {"top": top}).all()
    return size, [(name, int(n)) for name, n in rows]


def _sqlite(connection, top: int) -> tuple[int, list[tuple[str, int]]]:
    """Page counts from dbstat (each index counted with its table); where SQLite was built without it, none."""
    page_size = connection.exec_driver_sql("PRAGMA page_size").scalar() or 0
    size = (connection.exec_driver_sql("PRAGMA page_count").scalar() or 0) * page_size
    try:
        rows = connection.exec_driver_sql(
            "SELECT COALESCE(m.tbl_name, s.name), SUM(s.pgsize) FROM dbstat s LEFT JOIN sqlite_master m "
            "ON m.name = s.name GROUP BY 1 ORDER BY 2 DESC LIMIT ?", (top,)).all()
    except Exception:  # no dbstat in this SQLite: the size alone
        return size, []
    return size, [(name, int(n)) for name, n in rows]


def lines(health: Health) -> list[str]:
    """The status command's lines, one fact each."""
    out = [f"database: schema {health.schema}" + (" (current)" if not health.pending else
                                                   f", this digest's is {health.head}")
           + f", {size_text(health.size_bytes)}" + (f", {size_text(health.free_bytes)} free on its disk"
                                                  if health.free_bytes is not None else "")]
    if health.tables:
        out.append("  largest tables: " + ", ".join(f"{name} {size_text(n)}" for name, n in health.tables))
    out += [f"  WARNING: {warning}" for warning in health.warnings]
    return out


def size_text(n: int) -> str:
    for unit, scale in (("GB", 1024 ** 3), ("MB", MB), ("kB", 1024)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} B"
