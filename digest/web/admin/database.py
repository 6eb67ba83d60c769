"""The console's Database page, and the disk warning on the dashboard (issue 31).

What `digest status` says about the database, for an operator who never opens
a shell: schema and pending migrations, size, the largest tables, the free
disk under SQLite. The page counts pages (dbstat) or asks PostgreSQL for
relation sizes, a second or so on a big database, so it is a page of its own
for admins; the dashboard shows only the cheap part, the disk warning.
"""

from __future__ import annotations

from starlette.responses import Response

from digest.flows import health
from digest.web.admin.gate import Ctx, Gate

TOP = 10


def disk_todo(gate: Gate) -> list[dict]:
    """The dashboard's "needs doing" line when the disk holding a SQLite database runs short."""
    _free, warnings = health.disk(gate.sessions.kw["bind"], gate.settings.storage)
    return [{"kind": "disk", "newsletter": "", "link": "/admin/database", "text": text} for text in warnings]


def register(gate: Gate) -> None:
    engine = gate.sessions.kw["bind"]

    def page(ctx: Ctx) -> Response:
        state = health.check(engine, gate.settings.storage, top=TOP)
        tables = [(name, health.size_text(n), n / state.size_bytes if state.size_bytes else 0)
                  for name, n in state.tables]
        return gate.page(ctx, "database.html", title="Database", state=state, tables=tables,
                         size=health.size_text(state.size_bytes), dialect=engine.dialect.name,
                         free=None if state.free_bytes is None else health.size_text(state.free_bytes),
                         min_free_mb=gate.settings.storage.min_free_mb)

    gate.route("/admin/database", page, admin=True)
