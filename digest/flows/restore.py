"""`digest restore`: a backup into an empty database, checked, then migrated to this version's schema.

A restore replaces everything, so it refuses a database holding any row
unless told (--force). The archive's checksum is checked before anything is
touched; the rows restored are counted against the manifest before the
migrations run, so a restore that lost rows fails loudly instead of starting a
daemon on half the readers. Each way in (SQLite pages, pg_restore, rows) runs
in one transaction of the target: a killed restore leaves the database as it
was and the command can simply be run again.

Any backup restores into SQLite or PostgreSQL alike through rows (dbcopy.py),
except a pg_dump file, which only PostgreSQL reads.
"""

from __future__ import annotations

import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from digest.db import MIGRATION_LOCK, alembic_config, create_schema
from digest.flows import dbcopy
from digest.flows.backup import BackupError, Manifest, extract_payload, libpq_url, read_manifest, sqlite_path


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
    with tempfile.TemporaryDirectory(prefix=".digest-restore-", dir=target.parent if target else None) as work:
        payload = extract_payload(path, manifest, Path(work))
        if not force and not dbcopy.is_empty(engine):
            raise BackupError(f"the database {engine.url.render_as_string()} is not empty",
                              hint="restore into a new database, or pass --force to replace everything in it")
        if manifest.kind == "sqlite" and target is not None:
            way = "sqlite pages"
            engine.dispose()
            _sqlite_pages(payload, target)
        elif manifest.kind == "pg_dump":
            if engine.dialect.name != "postgresql":
                raise BackupError("a pg_dump backup restores into PostgreSQL only",
                                  hint="take it with `digest backup --logical` to restore it elsewhere")
            way = "pg_restore"
            _pg_restore(engine, payload)
        else:
            way = "rows"
            _rows(engine, manifest, payload)
    with engine.connect() as connection:
        counts = dbcopy.row_counts(connection)
    _compare(manifest.counts, counts)
    create_schema(engine)
    with engine.connect() as connection:
        now = dbcopy.schema_version(connection)
    return Restored(manifest, way, manifest.schema if now != manifest.schema else None, now)


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


def _pg_restore(engine: Engine, payload: Path) -> None:
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        dbcopy.drop_everything(connection)
    url, env = libpq_url(engine)
    done = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                           f"--dbname={url}", str(payload)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[-500:]}")


def _rows(engine: Engine, manifest: Manifest, payload: Path) -> None:
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        dbcopy.drop_everything(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, manifest.schema)  # the backup's own schema; the newer ones follow after the check
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
