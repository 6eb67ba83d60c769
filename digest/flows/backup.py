"""`digest backup`: one file holding a consistent snapshot of the database, taken while the daemon runs.

The readers and their proof of consent are the one thing a newsroom cannot
rebuild, so the snapshot must be whole and checkable: a gzip'd tar of
`manifest.json` (format, kind, schema version, rows per table, the payload's
SHA-256) and one payload, which is
- `database.sqlite`: SQLite's online backup API, one read transaction (WAL lets senders write on);
- `database.pgdump`: `pg_dump --format=custom`, taken in the snapshot the counts were read in;
- `tables.jsonl`: every table through SQLAlchemy (dbcopy.py), one REPEATABLE READ transaction.
The archive is written in a folder beside FILE and renamed over it at the end:
a killed backup leaves the previous one whole, and the next run clears what it
left (workspace()).
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from digest.errors import DigestError
from digest.flows import dbcopy

log = logging.getLogger(__name__)
FORMAT = 1
MANIFEST = "manifest.json"
PAYLOADS = {"sqlite": "database.sqlite", "pg_dump": "database.pgdump", "logical": "tables.jsonl",
            "readers": "readers.jsonl"}


class BackupError(DigestError):
    pass


@dataclass(frozen=True)
class Manifest:
    kind: str  # sqlite, pg_dump, logical, or readers (the reader tables alone, as logical)
    schema: str | None
    counts: dict[str, int]
    sha256: str
    created_at: str
    source: str  # the dialect it was taken from
    format: int = FORMAT

    @property
    def payload(self) -> str:
        return PAYLOADS[self.kind]

    def to_json(self) -> bytes:
        return json.dumps({"format": self.format, "kind": self.kind, "payload": self.payload,
                           "schema_version": self.schema, "source": self.source, "created_at": self.created_at,
                           "sha256": self.sha256, "counts": self.counts}, indent=2).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        raw = json.loads(data)
        if raw.get("format") != FORMAT or raw.get("kind") not in PAYLOADS:
            raise BackupError(f"not a digest backup this version can read (format {raw.get('format')!r}, "
                              f"kind {raw.get('kind')!r})")
        return cls(kind=raw["kind"], schema=raw["schema_version"], counts=raw["counts"], sha256=raw["sha256"],
                   created_at=raw["created_at"], source=raw["source"])


def sqlite_path(engine: Engine) -> Path | None:
    """The file of a SQLite database; None for PostgreSQL (or an in-memory database)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database)


def libpq_url(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database's address as pg_dump takes it, the password in PGPASSWORD (never on a command line)."""
    url = engine.url.set(drivername="postgresql")
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), env


def take(engine: Engine, out: Path, now: datetime, *, logical: bool = False, readers: bool = False) -> Manifest:
    """Write a backup of the database to `out`; the manifest says what it holds."""
    out = Path(out)
    with workspace(out.parent / ".digest-backup") as work:
        if readers:
            kind, schema, counts = "readers", *_logical(engine, work / PAYLOADS["readers"], dbcopy.READER_TABLES)
        elif sqlite_path(engine) is not None and not logical:
            kind, schema, counts = "sqlite", *_sqlite_snapshot(sqlite_path(engine), work / PAYLOADS["sqlite"])
        elif engine.dialect.name == "postgresql" and not logical and shutil.which("pg_dump"):
            kind, schema, counts = "pg_dump", *_pg_dump(engine, work / PAYLOADS["pg_dump"])
        else:
            kind, schema, counts = "logical", *_logical(engine, work / PAYLOADS["logical"])
        payload = work / PAYLOADS[kind]
        manifest = Manifest(kind=kind, schema=schema, counts=counts, sha256=_sha256(payload),
                            created_at=now.isoformat(), source=engine.dialect.name)
        log.info("backup: %s snapshot taken (%d rows); writing %s", kind, sum(counts.values()), out)
        partial = work / "archive.partial"
        with tarfile.open(partial, "w:gz", compresslevel=1) as archive:
            data = manifest.to_json()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
            archive.addfile(info, io.BytesIO(data))
            archive.add(payload, arcname=payload.name)
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.chmod(partial, 0o600)  # readers' addresses and consent records: not for every local user
        os.replace(partial, out)
    return manifest


@contextmanager
def workspace(folder: Path) -> Iterator[Path]:
    """A working folder of fixed name in the output's folder, locked while in use and emptied first.

    A backup or restore killed with -9 leaves its folder behind (a copy of
    personal data): the next run into the same folder (the nightly timer's
    dated files all go to one) finds it, clears it and so never piles copies
    up; the lock keeps two runs from sharing it."""
    folder.mkdir(mode=0o700, exist_ok=True)
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"another digest backup or restore is using {folder}",
                              hint="wait for it to finish") from None
        for left in folder.iterdir():
            log.info("removing %s, left by a backup or restore that was stopped", left)
            shutil.rmtree(left) if left.is_dir() else left.unlink()
        yield folder
        shutil.rmtree(folder)
    finally:
        os.close(handle)


def die_with_parent() -> None:
    """Run in a child (pg_dump, pg_restore) before it starts: killed with us, never left running on its own."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_snapshot(source: Path, target: Path) -> tuple[str | None, dict[str, int]]:
    """All pages in one step: one read transaction, so writers (WAL) carry on and the copy is one moment."""
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    copy = create_engine(f"sqlite:///{target}")
    try:
        with copy.connect() as connection:
            return dbcopy.schema_version(connection), dbcopy.row_counts(connection)
    finally:
        copy.dispose()


def _snapshot_connection(engine: Engine):
    """A REPEATABLE READ, read-only transaction: every table (and every count) as of one moment."""
    connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    connection.begin()
    if engine.dialect.name == "postgresql":
        connection.execute(text("SET TRANSACTION READ ONLY"))
    return connection


def _pg_dump(engine: Engine, target: Path) -> tuple[str | None, dict[str, int]]:
    connection = _snapshot_connection(engine)
    try:
        snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
        schema, counts = dbcopy.schema_version(connection), dbcopy.row_counts(connection)
        url, env = libpq_url(engine)
        done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                               f"--snapshot={snapshot}", f"--file={target}", url],
                              env=env, capture_output=True, text=True, preexec_fn=die_with_parent)
        if done.returncode:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()[-500:]}",
                              hint="`digest backup --logical` exports through SQLAlchemy instead")
        return schema, counts
    finally:
        connection.rollback()
        connection.close()


def _logical(engine: Engine, target: Path, only=None) -> tuple[str | None, dict[str, int]]:
    connection = _snapshot_connection(engine) if engine.dialect.name == "postgresql" else engine.connect()
    try:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN")  # one read transaction: one moment, as on PostgreSQL
        schema = dbcopy.schema_version(connection)
        with open(target, "wb") as out:
            counts = dbcopy.write_jsonl(dbcopy.read_tables(connection, only), out)
        return schema, counts
    finally:
        connection.rollback()
        connection.close()


def read_manifest(path: Path) -> Manifest:
    try:
        with tarfile.open(path, "r:*") as archive:
            member = archive.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            return Manifest.from_json(member.read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{path} is not a digest backup: {exc}") from exc


def extract_payload(path: Path, manifest: Manifest, folder: Path) -> Path:
    """The payload, unpacked and checked against the manifest's checksum."""
    target = folder / manifest.payload
    with tarfile.open(path, "r:*") as archive:
        member = archive.extractfile(manifest.payload)
        if member is None:
            raise BackupError(f"{path} has no {manifest.payload}")
        with open(target, "wb") as out:
            shutil.copyfileobj(member, out, 1 << 20)
    if _sha256(target) != manifest.sha256:
        raise BackupError(f"{path}: the payload's checksum does not match its manifest (damaged or altered)")
    return target
