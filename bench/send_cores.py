"""bench/send.py's runs for issue 17: DKIM on in one process, and one command on every core.

Each reruns the issue of an earlier case (same database, same deliveries put
back to queued) with one change in its config.toml: `[dkim] selector` set
(RSA-2048, the key made at the start and passed in DIGEST_DKIM_PRIVATE_KEY),
and/or `delivery.processes`. The command is `digest worker --once`, which
sends through the same flows.sending.send_existing_issue as `digest send`; the issue
was enqueued beforehand so that gathering and rendering are not timed.
"""

from __future__ import annotations

from send_runs import Bench, Send, set_key
from send_support import set_dkim


def requeue_all(url: str) -> None:
    """Every delivery back to 'queued' (SQLite or PostgreSQL), so the next run sends the same issue again."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "UPDATE deliveries SET status = 'queued', attempts = 0, sent_at = NULL, last_error = NULL, "
            "lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL"))
        connection.execute(sa.text("UPDATE issues SET status = 'sending', finished_at = NULL, paused_reason = NULL"))
    engine.dispose()


def rerun(b: Bench, db: str, base: Send, *, processes: int, dkim: bool, stop_after: int = 0,
          count_sent=None) -> Send:
    config, url = b.cases[db]
    requeue_all(url)
    set_key(config, "connections", base.connections)
    set_key(config, "processes", processes)
    set_dkim(config, dkim)
    label = (f"{db} {base.subscribers:,}, {processes} process{'es' if processes > 1 else ''} x "
             f"{base.connections} conns, DKIM {'on' if dkim else 'off'}")
    result = Send(label, db, base.subscribers, base.connections, processes=processes, dkim=dkim)
    b.worker_run(config, result, stop_after=stop_after, count_sent=count_sent)
    set_dkim(config, False)
    set_key(config, "processes", 1)
    return result
