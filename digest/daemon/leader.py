"""One scheduler leads; the others stand by.

PostgreSQL: a session-level advisory lock held on a dedicated connection. If
the leader dies its connection closes, the server releases the lock, and a
standby polling every few seconds takes over. SQLite (one machine): an
exclusive flock on a file beside the database, released by the kernel when
the process dies. No home-made election protocol.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)
LOCK_KEY = 0x6469676573  # "diges": one key for every digest scheduler sharing this database


class LeaderLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection = None
        self.file = None

    @property
    def held(self) -> bool:
        return self.connection is not None or self.file is not None

    def try_acquire(self) -> bool:
        if self.held:
            return self.still_held()
        if self.engine.dialect.name == "postgresql":
            return self._try_postgres()
        return self._try_file()

    def still_held(self) -> bool:
        """A leader whose database connection broke has lost the lock: it must stop scheduling."""
        if self.connection is None:
            return self.file is not None
        try:
            self.connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            log.error("lost the database connection that held the scheduler lock")
            self.release()
            return False

    def _try_postgres(self) -> bool:
        # Autocommit: a session-level lock needs no transaction, and an open one would sit
        # "idle in transaction" (and be killed where idle_in_transaction_session_timeout is set).
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar()
        except SQLAlchemyError:
            connection.close()
            raise
        if got:
            self.connection = connection
            return True
        connection.close()
        return False

    def _try_file(self) -> bool:
        database = self.engine.url.database
        path = Path(f"{database}.scheduler.lock") if database and database != ":memory:" else None
        if path is None:
            return True  # an in-memory database cannot be shared
        handle = open(path, "a+")  # noqa: SIM115  (held open for the life of the lock)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.file = handle
        return True

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except SQLAlchemyError:
                pass
            self.connection = None
        if self.file is not None:
            self.file.close()
            self.file = None
