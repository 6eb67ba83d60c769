"""A year unattended (issue 31): database size by month with retention on and off, the daily maintenance's
time, and the send rate on the last day against the first.

Each simulated day, on the app clock (nothing waits): 8 new articles, sign-ups
and departures (0.1 % and 0.05 % of the readers a day, each with its consent
record), one issue to every confirmed reader made and recorded by the real
outbox code through a transport that accepts at once, then what comes back
(0.2 % hard and 0.3 % soft bounces and 0.02 % complaints of those sent, as
feedback rows; hard bounces and complaints suppress), two kept mails, five
audit lines and some rate-limit windows. With retention on, the defaults of
config.toml prune after each day, timed without the rests the daemon takes
between batches (those make it nine times longer in wall time, by design).
The send rate is printed for day N against day 1 and, steadier, for the
median of the last 7 days against days 2-8 (day 1 pays the first send's
costs), in messages a second of this process's CPU (what other load on a
shared machine changes least; SQLite runs in this process) and of the wall
clock; the goal is >= 0.95.

    .venv/bin/python bench/year.py [--readers 20000] [--days 365] [--db sqlite,postgresql]

The issue's full size (20,000 readers, 365 days) sends 7.3 million messages per
run; --readers scales it (the size per delivery does not depend on it).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import textwrap
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from digest.config import load_settings  # noqa: E402
from digest.flows import retention, sending  # noqa: E402
from digest.flows.runtime import Runtime  # noqa: E402
from digest.models import Article, AuditEntry, Delivery, Feedback, KeptMail  # noqa: E402
from subscribers import Origin, add_subscriber, remove_subscriber  # noqa: E402
from subscribers.models import ConsentEvent, RateCount, Subscriber, Subscription  # noqa: E402
from subscribers.suppression import suppress  # noqa: E402

PG_ADMIN = os.environ.get("DIGEST_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 1, 1, 7, 0, tzinfo=timezone.utc)
SOURCE = "https://wire.example.org/feed.xml"
WORDS = ("council budget river bridge school teachers strike hospital winter storm election market prices "
         "housing rents transport minister court ruling police report farmers harvest museum festival").split()


class Accept:
    """Takes every message at once and keeps nothing: the database is what is measured."""

    def open(self) -> None:
        pass

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        pass

    def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def write_config(folder: Path, url: str, keep: bool) -> Path:
    forever = "" if keep else "\n".join(f"{key} = 0" for key in (
        "deliveries_days", "feedback_days", "kept_mail_days", "audit_days", "article_text_days", "rate_limit_days"))
    path = folder / "config.toml"
    path.write_text(textwrap.dedent(f"""\
        [site]
        name = "Year Gazette"
        base_url = "https://gazette.example.org"
        postal_address = "1 Bench Road, Testville"
        unsubscribe_mailbox = "unsubscribe@gazette.example.org"

        [storage]
        url = "{url}"

        [delivery]
        transport = "file"
        processes = 1

        [retention]
        """) + forever + textwrap.dedent(f"""

        [[newsletters]]
        slug = "daily"
        title = "Year Daily"
        from_address = "Year Daily <daily@gazette.example.org>"
        max_items = 8

        [[newsletters.sources]]
        name = "Wire"
        url = "{SOURCE}"
        """), encoding="utf-8")
    return path


def fill_readers(rt: Runtime, n: int) -> None:
    subscribers, subscriptions, events = [], [], []
    for i in range(1, n + 1):
        subscribers.append({"id": i, "email": f"reader{i:06d}@example.com", "created_at": START})
        subscriptions.append({"id": i, "subscriber_id": i, "newsletter": "daily", "status": "confirmed",
                              "created_at": START, "confirmed_at": START, "plain_text": False, "frequency": "each"})
        events.append({"subscriber_id": i, "newsletter": "daily", "kind": "confirmed", "at": START, "ip": "192.0.2.1",
                       "user_agent": "bench", "detail": "imported"})
    with rt.sessions() as session, session.begin():
        connection = session.connection()
        for table, rows in ((Subscriber, subscribers), (Subscription, subscriptions), (ConsentEvent, events)):
            connection.execute(sa.insert(table.__table__), rows)
    if rt.sessions.kw["bind"].dialect.name == "postgresql":
        with rt.sessions() as session, session.begin():
            for table in ("subscribers", "subscriptions"):
                session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})"))


def articles(rt: Runtime, day: int, rng: random.Random) -> None:
    with rt.sessions() as session, session.begin():
        for k in range(8):
            body = " ".join(". ".join(" ".join(rng.choices(WORDS, k=14)).capitalize() for _ in range(6)) + "."
                            for _ in range(4))
            session.add(Article(uid=f"{SOURCE}#{day}-{k}", source_url=SOURCE, source_name="Wire",
                                link=f"https://wire.example.org/{day}/{k}", title=f"Day {day} story {k}: "
                                + " ".join(rng.choices(WORDS, k=6)), text=body, published_at=rt.now() - timedelta(hours=2),
                                fetched_at=rt.now()))


def churn(rt: Runtime, day: int, readers: int, rng: random.Random, next_id: list[int]) -> None:
    now = rt.now()
    with rt.sessions() as session, session.begin():
        for _ in range(max(1, readers // 1000)):
            next_id[0] += 1
            add_subscriber(session, f"late{next_id[0]:07d}@example.org", "daily", confirmed=True,
                           origin=Origin("bench", "198.51.100.7"), now=now)
        for _ in range(max(1, readers // 2000)):
            remove_subscriber(session, f"reader{rng.randint(1, readers):06d}@example.com", "daily",
                              Origin("bench"), now=now)
        for k in range(2):
            session.add(KeptMail(received_at=now, mail_from="mailer-daemon@example.net", recipients="x", reason="unsigned",
                                 raw=os.urandom(2000) + b"\n" * 3000))
        for k in range(5):
            session.add(AuditEntry(at=now, operator="ann", action="issue.review", target=f"day {day}", ip="127.0.0.1"))
        hour = int(now.timestamp()) // 3600 * 3600
        for k in range(20):
            session.add(RateCount(key=f"net:203.0.{day % 250}.{k}/24", window=hour, count=1))


def come_back(rt: Runtime, issue_id: int, rng: random.Random) -> None:
    now = rt.now()
    with rt.sessions() as session, session.begin():
        rows = session.execute(sa.select(Delivery.id, Delivery.email).where(Delivery.issue_id == issue_id)).all()
        for kind, share in (("hard", 0.002), ("soft", 0.003), ("complaint", 0.0002)):
            for delivery_id, email in rng.sample(rows, max(1, int(len(rows) * share))):
                if session.scalar(sa.select(Feedback.id).where(Feedback.delivery_id == delivery_id)) is not None:
                    continue
                session.add(Feedback(delivery_id=delivery_id, issue_id=issue_id, email=email, kind=kind,
                                     status="5.1.1" if kind == "hard" else "4.2.2", reason="userunknown",
                                     side="reader", domain=email.rpartition("@")[2], at=now,
                                     diagnostic="550 5.1.1 <x>: Recipient address rejected: User unknown",
                                     action="suppressed" if kind != "soft" else "scored"))
                if kind != "soft":
                    suppress(session, email, "hard_bounce" if kind == "hard" else "complaint", "bench",
                             Origin("bench"), now)


def size_of(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            return connection.scalar(sa.text("SELECT pg_database_size(current_database())"))
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return (connection.exec_driver_sql("PRAGMA page_count").scalar()
                * connection.exec_driver_sql("PRAGMA page_size").scalar())


def run(label: str, url: str, keep: bool, args) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="digest-year-"))
    settings = load_settings(write_config(folder, url, keep), environ={"DIGEST_SECRET_KEY": secrets.token_hex(16)})
    clock = Clock()
    rt = replace(Runtime.create(settings), transport_factory=Accept, now=clock)
    engine = rt.sessions.kw["bind"]
    fill_readers(rt, args.readers)
    rng, next_id = random.Random(31), [0]
    months, rates, cpu_rates, maintenance = [], [], [], []
    for day in range(1, args.days + 1):
        clock.now = START + timedelta(days=day)
        articles(rt, day, rng)
        churn(rt, day, args.readers, rng, next_id)
        started, cpu = time.perf_counter(), time.process_time()
        outcome = sending.send_newsletter(rt, "daily", slot=f"d{day:03d}", fetch=False)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        sent = sum(r.sent for r in outcome.reports)
        rates.append(sent / seconds)
        cpu_rates.append(sent / cpu)  # this process's CPU alone: what other load on the machine changes least
        come_back(rt, outcome.new_issue_id, rng)
        if keep:
            pruner = retention.Pruner(rt.sessions, settings.retention, clock.now, sleep=lambda _s: None)
            pruner.run()
            maintenance.append(pruner.seconds)
        if day % 30 == 0 or day == args.days:
            months.append((day, size_of(engine)))
            print(f"  {label} retention {'on' if keep else 'off'}: day {day}: {months[-1][1] / 1e6:.1f} MB, "
                  f"send {rates[-1]:,.0f}/s" + (f", maintenance {maintenance[-1]:.2f} s" if keep else ""), flush=True)
    engine.dispose()
    return {"months": months, "rates": rates, "cpu_rates": cpu_rates, "maintenance": maintenance}


def rate_lines(db: str, label: str, r: dict) -> list[str]:
    """Day N against day 1, and (steadier) the median of the last 7 days against days 2-8 (day 1 also pays
    the first-send costs: imports, templates, caches). Goal: >= 0.95."""
    lines = [f"{db} retention {label}: send rate, messages a second of this process's CPU (wall clock in brackets)"]
    n = len(r["rates"])
    cpu, wall = r["cpu_rates"], r["rates"]
    lines.append(f"  day 1: {cpu[0]:,.0f}/s ({wall[0]:,.0f}/s); day {n}: {cpu[-1]:,.0f}/s ({wall[-1]:,.0f}/s); "
                 f"day {n} / day 1: {cpu[-1] / cpu[0]:.2f} ({wall[-1] / wall[0]:.2f})")
    if n >= 15:
        first, last = statistics.median(cpu[1:8]), statistics.median(cpu[-7:])
        wfirst, wlast = statistics.median(wall[1:8]), statistics.median(wall[-7:])
        ratio = last / first
        lines.append(f"  median days 2-8: {first:,.0f}/s ({wfirst:,.0f}/s); median days {n - 6}-{n}: {last:,.0f}/s "
                     f"({wlast:,.0f}/s); last week / first week: {ratio:.2f} ({wlast / wfirst:.2f}); goal >= 0.95: "
                     f"{'met' if ratio >= 0.95 else 'NOT met'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--retention", choices=("both", "on", "off"), default="both",
                        help="run one side only (two processes can then run the two sides at once)")
    args = parser.parse_args()
    sides = {"both": (True, False), "on": (True,), "off": (False,)}[args.retention]
    results = {}
    for db in args.db.split(","):
        for keep in sides:
            if db == "sqlite":
                url = f"sqlite:///{tempfile.mkdtemp(prefix='digest-year-db-')}/digest.db"
                results[db, keep] = run(db, url, keep, args)
                continue
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            name = f"digest_year_{secrets.token_hex(4)}"
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                results[db, keep] = run(db, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", keep, args)
            finally:
                with admin.connect() as connection:
                    connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print(f"\n{args.readers:,} readers, {args.days} daily issues; database size in MB at the end of each month")
    for db in args.db.split(","):
        on, off = results.get((db, True)), results.get((db, False))
        if on and off:
            print(f"\n{db}: | day | retention on | retention off | on / off |\n|---|---|---|---|")
            for (day, a), (_day, b) in zip(on["months"], off["months"]):
                print(f"| {day} | {a / 1e6:.1f} | {b / 1e6:.1f} | {a / b:.2f} |")
        for label, r in (("on", on), ("off", off)):
            if r:
                print("\n".join(rate_lines(db, label, r)))
        if on:
            m = sorted(on["maintenance"])
            print(f"{db} daily maintenance: median {m[len(m) // 2]:.2f} s, worst {m[-1]:.2f} s (work alone; the "
                  "daemon rests 9x that between batches)")


if __name__ == "__main__":
    main()
