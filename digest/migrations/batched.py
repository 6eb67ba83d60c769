"""A migration's data step on a table that may hold millions of rows: said first, then done in batches.

An operator upgrading waits for the daemon to come back; one UPDATE of every
row of a big table runs for minutes with nothing said, and builds one huge
statement's worth of undo (SQLite's journal, PostgreSQL's old row versions).
So a data step counts the rows it will touch, says so in one line when they
are many (with the count: the operator can judge how long), and walks the
table by primary key in batches. The batches stay in the migration's one
transaction: an upgrade is still all or nothing.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Connection, text

log = logging.getLogger("digest.migrations")
LONG = 100_000  # rows from which a migration says it will take a while
BATCH = 20_000  # rows of the key range a statement covers


def update_in_batches(connection: Connection, revision: str, table: str, assignments: str, where: str,
                      key: str = "id") -> int:
    """UPDATE table SET assignments WHERE where, one key range of BATCH at a time; returns the statements run.
    `table`, `assignments`, `where` and `key` are the migration's own SQL, never input."""
    rows = connection.scalar(text(f"SELECT count(*) FROM {table} WHERE {where}")) or 0
    low, high = connection.execute(text(f"SELECT min({key}), max({key}) FROM {table}")).one()
    long = rows >= LONG
    if long:
        log.warning("migration %s: %s rows of %s to update, in batches of %s: this takes a while", revision,
                    f"{rows:,}", table, f"{BATCH:,}")
    started, statements = time.monotonic(), 0
    if rows and low is not None:
        step = text(f"UPDATE {table} SET {assignments} WHERE {key} >= :low AND {key} < :high AND ({where})")
        for start in range(low, high + 1, BATCH):
            connection.execute(step, {"low": start, "high": start + BATCH})
            statements += 1
    if long:
        log.warning("migration %s: %s rows of %s updated in %d batches in %.1f s", revision, f"{rows:,}", table,
                    statements, time.monotonic() - started)
    return statements
