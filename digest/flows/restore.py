"""`digest restore`: a backup into an empty database, checked, then migrated to this version's schema.

A restore replaces everything, so it refuses a database holding any row
unless told (--force). The archive's checksum is checked before anything is
touched; the rows restored are counted against the manifest before the
migrations run, so a restore that lost rows fails loudly instead of starting a
daemon on half the readers. A restore killed at any point (kill -9, power)
leaves a database a command can use and a command that can simply be run
again: into SQLite, a new file is made beside the old and renamed over it
once whole and migrated; into PostgreSQL by rows, the drop, the rows, the
count and the migrations are one transaction; by pg_restore (a process of its
own), the database is marked unfinished between dropping the old tables and
the end, every command refuses it with that message, and the next `digest
restore` (no --force needed) finishes it.

Any backup restores into SQLite or PostgreSQL alike through rows (dbcopy.py),
except a pg_dump file, which only PostgreSQL reads.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, inspect, text

from digest.db import MIGRATION_LOCK, UNFINISHED, alembic_config, make_engine
from digest.flows import dbcopy
from digest.flows.backup import (BackupError, Manifest, die_with_parent, extract_payload, libpq_url, read_manifest,
                                 sqlite_path, workspace)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    way: str  # how the rows came in: "sqlite pages", "pg_restore", "rows"
    migrated_from: str | None  # the backup's schema when it was older than this version's, else None
    schema: str | None  # the schema now


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _check_schema(manifest: Manifest) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if manifest.schema is None:
        raise BackupError("the backup holds no schema version: it was not taken from a digest database")
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(manifest.schema)
    except CommandError:
        raise BackupError(f"the backup's schema {manifest.schema} is newer than this digest knows "
                          f"({head_revision()})", hint="restore it with the digest version that made it") from None


def restore(engine: Engine, path: Path, *, force: bool = False) -> Restored:
    manifest = read_manifest(path)
    _check_schema(manifest)
    target = sqlite_path(engine)
    if manifest.kind == "pg_dump" and engine.dialect.name != "postgresql":
        raise BackupError("a pg_dump backup restores into PostgreSQL only",
                          hint="take it with `digest backup --logical` to restore it elsewhere")
    unfinished = engine.dialect.name == "postgresql" and _unfinished(engine)
    absent = target is not None and not target.exists()  # looking would create it
    if not force and not unfinished and not absent and not dbcopy.is_empty(engine):
        raise BackupError(f"the database {engine.url.render_as_string()} is not empty",
                          hint="restore into a new database, or pass --force to replace everything in it")
    with workspace((target if target is not None else Path(path)).parent / ".digest-restore") as work:
        payload = extract_payload(path, manifest, work)
        log.info("restore: %s checked against its manifest (%s, schema %s)", path, manifest.kind, manifest.schema)
        if target is not None:
            engine.dispose()  # our own look at it must not count as someone using it
            way = _into_sqlite(manifest, payload, work / "digest.db", target)
        elif manifest.kind == "pg_dump":
            way = "pg_restore"
            _pg_restore(engine, manifest, payload)
        else:
            way = "rows"
            with engine.begin() as connection:
                _rows(connection, manifest, payload)
                _finish(connection, manifest)
    engine.dispose()
    with engine.connect() as connection:
        now = dbcopy.schema_version(connection)
    return Restored(manifest, way, manifest.schema if now != manifest.schema else None, now)


def _finish(connection: Connection, manifest: Manifest) -> None:
    """In the restore's last transaction: the rows counted against the manifest, then the schema brought to
    this version's (all or nothing with what came before it in that transaction)."""
    from alembic import command

    _compare(manifest.counts, dbcopy.row_counts(connection))
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    if UNFINISHED in inspect(connection).get_table_names():
        connection.execute(text(f"DROP TABLE {UNFINISHED}"))


def _into_sqlite(manifest: Manifest, payload: Path, fresh: Path, target: Path) -> str:
    """A whole new database file made beside the target, then renamed over it: a restore killed at any
    point leaves the target as it was, and the next run starts again from the backup."""
    way = "sqlite pages" if manifest.kind == "sqlite" else "rows"
    if manifest.kind == "sqlite":
        _sqlite_pages(payload, fresh)
    engine = make_engine(f"sqlite:///{fresh}")
    try:
        with engine.connect() as connection:
            # A migration rebuilding a table on SQLite would delete the rows pointing at it (see create_schema).
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            with connection.begin():
                if manifest.kind != "sqlite":
                    _rows(connection, manifest, payload)
                _finish(connection, manifest)
        with engine.connect() as connection:  # one self-contained file: no write-ahead log beside it
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
    finally:
        engine.dispose()
    log.info("restore: %d rows in a new database; replacing %s with it", sum(manifest.counts.values()), target)
    _swap(fresh, target)
    return way


def _swap(fresh: Path, target: Path) -> None:
    """Rename the new file over the target once nobody has the target open (a daemon writing to a file
    renamed away would lose everything it writes)."""
    connection = sqlite3.connect(target, timeout=60)
    try:
        connection.execute("BEGIN EXCLUSIVE")  # a transaction in progress ends first
        connection.rollback()
        try:
            connection.execute("PRAGMA journal_mode=DELETE")  # refused while any other connection is open
        except sqlite3.OperationalError:
            raise BackupError(f"{target} is in use (is the daemon running?)",
                              hint="stop every digest process using it, then restore again") from None
        os.replace(fresh, target)
    finally:
        connection.close()


def _compare(expected: dict[str, int], found: dict[str, int]) -> None:
    wrong = [f"{name}: {n} in the backup, {found.get(name, 0)} restored" for name, n in sorted(expected.items())
             if name != dbcopy.VERSION_TABLE and found.get(name, 0) != n]
    if wrong:
        raise BackupError("the restored rows do not match the manifest: " + "; ".join(wrong))


def _sqlite_pages(payload: Path, target: Path) -> None:
    """SQLite's backup API the other way: the target's pages replaced in one transaction of its own."""
    source, destination = sqlite3.connect(payload), sqlite3.connect(target, timeout=30)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()


def _unfinished(engine: Engine) -> bool:
    with engine.connect() as connection:
        return UNFINISHED in inspect(connection).get_table_names()


def _pg_restore(engine: Engine, manifest: Manifest, payload: Path) -> None:
    """pg_restore runs in a transaction of its own, after the old tables are dropped in one of ours: between
    the two the database holds the UNFINISHED mark alone, which every command refuses until a restore ends."""
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        dbcopy.drop_everything(connection)
        connection.execute(text(f"CREATE TABLE {UNFINISHED} (sha256 text)"))
        connection.execute(text(f"INSERT INTO {UNFINISHED} VALUES (:sha)"), {"sha": manifest.sha256})
    url, env = libpq_url(engine)
    done = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                           f"--dbname={url}", str(payload)], env=env, capture_output=True, text=True,
                          preexec_fn=die_with_parent)
    if done.returncode:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[-500:]}")
    with engine.begin() as connection:
        _finish(connection, manifest)


def _rows(connection: Connection, manifest: Manifest, payload: Path) -> None:
    from alembic import command

    config = alembic_config()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    dbcopy.drop_everything(connection)
    config.attributes["connection"] = connection
    command.upgrade(config, manifest.schema)  # the backup's own schema; the newer ones follow after the check
    log.info("restore: loading the rows")
    if manifest.kind in ("logical", "readers"):
        with open(payload, "rb") as lines:
            dbcopy.load_tables(connection, dbcopy.read_jsonl(lines))
    else:  # a SQLite snapshot into PostgreSQL (or into a SQLite database that is not a file)
        source = create_engine(f"sqlite:///{payload}")
        try:
            with source.connect() as reading:
                dbcopy.load_tables(connection, dbcopy.read_tables(reading))
        finally:
            source.dispose()
