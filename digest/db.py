"""Engine and sessions: SQLite by default, PostgreSQL when one machine is not enough.

The declarative Base lives in subscribers.db (the lower layer); importing both
model modules here registers every table on that one metadata.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import digest.models  # noqa: F401  (registers digest tables)
import digest.models_api  # noqa: F401  (registers the API and webhook tables)
import digest.models_clicks  # noqa: F401  (registers the click analytics tables)
import subscribers.models  # noqa: F401  (registers subscriber tables)
from digest.errors import ConfigError


MIGRATION_LOCK = 0x64696765  # "dige": the advisory lock key migrations take on PostgreSQL
UNFINISHED = "digest_restore_unfinished"  # a table only a restore still under way (or killed) leaves


def make_engine(url: str) -> Engine:
    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise ConfigError(f"storage.url {url!r} cannot be used: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets a preview read while a send writes; busy_timeout rides out short locks.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def create_schema(engine: Engine) -> None:
    """Bring the database to the newest schema with the Alembic migrations (SQLite and PostgreSQL alike)."""
    from alembic import command
    from alembic.util import CommandError

    config = alembic_config()
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if inspect(connection).has_table(UNFINISHED):
                raise ConfigError(f"a restore into the database {engine.url!r} did not finish: it holds no readers",
                                  hint="run `digest restore FILE` again (it finishes what was started)")
            connection.rollback()  # the look ended; the migrations begin their own transaction
            if sqlite:
                # A migration that rebuilds a table on SQLite drops the old one, and with foreign keys on
                # that deletes every row pointing at it (ON DELETE CASCADE: pending opt-in tokens, bounce
                # feedback). Off while migrating; PRAGMA is a no-op inside a transaction, hence before it.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            try:
                with connection.begin():
                    if not sqlite:
                        # Two commands starting together on a new database would both create the tables;
                        # the second waits here, then finds the schema current.
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                    if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                        logging.getLogger(__name__).warning("rows of this database point at rows that do not "
                                                            "exist (PRAGMA foreign_key_check lists them)")
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
    except SQLAlchemyError as exc:
        raise ConfigError(f"cannot open the database {engine.url!r}: {exc.__class__.__name__}: {exc.orig}") from exc
    except CommandError as exc:  # a newer digest migrated it: old code must not write to a schema it does not know
        raise ConfigError(f"the database {engine.url!r} has a schema this digest does not know ({exc}): a newer "
                          "digest upgraded it", hint="run that version, or restore a backup taken before") from exc


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
