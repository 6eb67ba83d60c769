"""Retention while a send runs (issue 31): the send's rate with `digest maintain` pruning a backlog beside it,
against the same send alone (goal: slowed by at most 10 %, i.e. ratio >= 0.90).

SQLite (one writer lock: where the two compete most). 20,000 readers; before
each "with" trial the old issue's outbox is filled again with one row per
reader (10 batches of 2,000 for the pruner, each followed by its rest of nine
times the batch's time); the send is a new issue to every reader through the
real outbox code and a transport that accepts at once (year.py's), timed in
wall clock and this process's CPU; the maintenance is the real command in its
own process, and the send starts once it has pruned its first batch (its
start-up, a Python process importing digest, is not what is measured: the
daemon's leader prunes in-process). Trials alternate alone / with, so a
machine's changing load falls on both sides.

    .venv/bin/python bench/maintain_send.py [--readers 20000] [--trials 3]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from year import Accept, articles, fill_readers, write_config  # noqa: E402

from digest.config import load_settings  # noqa: E402
from digest.flows import sending  # noqa: E402
from digest.flows.runtime import Runtime  # noqa: E402


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=20_000)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="digest-maintain-"))
    config = write_config(folder, f"sqlite:///{folder}/digest.db", True)
    secret = secrets.token_hex(16)
    now = datetime.now(timezone.utc)
    clock = Clock(now - timedelta(days=100))  # the old issue: past deliveries_days (60) for the real command
    rt = replace(Runtime.create(load_settings(config, environ={"DIGEST_SECRET_KEY": secret})),
                 transport_factory=Accept, now=clock)
    engine = rt.sessions.kw["bind"]
    fill_readers(rt, args.readers)
    import random
    articles(rt, 1, random.Random(31))
    old = sending.send_newsletter(rt, "daily", slot="old", fetch=False).new_issue_id
    clock.now = now
    rt = replace(rt, now=lambda: datetime.now(timezone.utc))

    def backlog() -> int:
        """The old issue's outbox, whole again (it stays prunable: a newer issue is the newsletter's latest)."""
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM deliveries WHERE issue_id = :old"), {"old": old})
            connection.execute(sa.text(
                "INSERT INTO deliveries (issue_id, subscriber_id, email, status, attempts, plain_text, sent_at) "
                "SELECT :old, id, email, 'sent', 1, 0, :at FROM subscribers"),
                {"old": old, "at": now - timedelta(days=100)})
            return connection.scalar(sa.text("SELECT count(*) FROM deliveries WHERE issue_id = :old"), {"old": old})

    def send(label: str) -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        outcome = sending.send_newsletter(rt, "daily", slot=label, force=True, fetch=False)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        sent = sum(r.sent for r in outcome.reports)
        return sent / wall, sent / cpu

    def left(issue: int) -> int:
        with engine.connect() as connection:
            return connection.scalar(sa.text("SELECT count(*) FROM deliveries WHERE issue_id = :i"), {"i": issue})

    send("warm-up")
    alone, beside = [], []
    env = {**os.environ, "DIGEST_SECRET_KEY": secret}
    for trial in range(args.trials):
        alone.append(send(f"alone-{trial}"))
        rows = backlog()
        maintain = subprocess.Popen([sys.executable, "-m", "digest", "--config", str(config), "maintain"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder)
        while left(old) == rows and maintain.poll() is None:  # the send starts once the pass is pruning
            time.sleep(0.005)
        at_start = left(old)
        beside.append(send(f"with-{trial}"))
        running = maintain.poll() is None
        out, err = maintain.communicate(timeout=600)
        waited = "waiting for it to end" in err
        said = out.strip().splitlines()[0] if out.strip() else err[-200:]
        print(f"trial {trial}: alone {alone[-1][0]:,.0f}/s wall ({alone[-1][1]:,.0f}/s CPU); with maintenance "
              f"{beside[-1][0]:,.0f}/s wall ({beside[-1][1]:,.0f}/s CPU); backlog {rows:,} rows, {at_start:,} left "
              f"when the send began, maintenance {'still running' if running else 'finished'} when it ended"
              f"{', and waited for it' if waited else ''} ({said})",
              flush=True)
    wall = statistics.median(b[0] for b in beside) / statistics.median(a[0] for a in alone)
    cpu = statistics.median(b[1] for b in beside) / statistics.median(a[1] for a in alone)
    print(f"\n{args.readers:,} readers, SQLite: send rate with maintenance / alone, medians of {args.trials}: "
          f"{wall:.2f} wall clock, {cpu:.2f} CPU; goal >= 0.90: {'met' if wall >= 0.90 else 'NOT met'} (wall)")
    engine.dispose()


if __name__ == "__main__":
    main()
