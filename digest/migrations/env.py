"""Alembic environment: one metadata (subscribers.db.Base) for both packages.

digest.db.upgrade() passes an open connection in `config.attributes`; the
`alembic` command line works too, with `-x url=...`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import digest.models  # noqa: F401  (registers digest tables)
import subscribers.models  # noqa: F401  (registers subscriber tables)
from subscribers.db import Base

config = context.config


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as standalone:
        run(standalone)
