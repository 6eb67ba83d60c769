"""How fast does `digest inbound` act on a flood of returned mail, and is anything lost?

What it measures: N returned messages (default 10,000: RFC 3464 DSNs, a
mix of hard 5.1.1 and soft 4.2.2, plus 2% ARF complaints and 2% forged
bounces with a bad signature) sent over SMTP by C concurrent client
connections to a real `digest inbound` process (its own process, as in
production), each client reconnecting whenever the listener's
per-connection limit is reached. The clock stops when the database holds an
outcome for every message (feedback rows + kept messages == N).

Printed: messages/s end to end, the counts (hard, soft, complaints, kept,
suppressed addresses, soft scores) against what was sent, and the listener's
peak RSS. The target (issue 15) is at least 200 messages/s with nothing lost.

Setup: a throwaway folder, config.toml on SQLite (or --postgres URL), one
issue with N deliveries to N readers written with bulk INSERTs, return paths
signed with the same site key the listener uses. Only 127.0.0.1 is used.

Run: .venv/bin/python bench/inbound.py [--messages 10000] [--clients 4] [--postgres URL] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from bounce_samples import arf, dsn  # noqa: E402  (the team-written samples the tests use)

from digest import returnpath  # noqa: E402
from digest.config import load_settings  # noqa: E402
from digest.db import create_schema, make_engine  # noqa: E402

SECRET = "bench-secret-key"
CONFIG = """\
[site]
name = "Bench Gazette"
base_url = "https://gazette.example.org"
postal_address = "1 Bench Road"
unsubscribe_mailbox = "unsubscribe@gazette.example.org"

[storage]
url = "{url}"

[bounces]
domain = "bounce.example.net"
listen_port = {port}
max_messages_per_connection = 100
max_connections = 50

[[newsletters]]
slug = "daily"
title = "Gazette Daily"
from_address = "daily@gazette.example.org"
[[newsletters.sources]]
name = "Wire"
url = "https://wire.example.org/feed.xml"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fill(url: str, n: int) -> None:
    """N readers, one issue, N deliveries, in a few bulk statements."""
    engine = make_engine(url)
    create_schema(engine)
    now = datetime.now(timezone.utc)
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO subscribers (id, email, created_at) VALUES (:id, :email, :now)"),
                  [{"id": i, "email": f"r{i}@remote.example.net", "now": now} for i in range(1, n + 1)])
        c.execute(sa.text("INSERT INTO subscriptions (subscriber_id, newsletter, status, created_at, confirmed_at) "
                          "VALUES (:id, 'daily', 'confirmed', :now, :now)"),
                  [{"id": i, "now": now} for i in range(1, n + 1)])
        c.execute(sa.text("INSERT INTO issues (id, newsletter, slot, created_at, status, subject, html, text, "
                          "personal_mark) VALUES (1, 'daily', 'bench', :now, 'sent', 'Bench', '', '', 'x')"),
                  {"now": now})
        c.execute(sa.text("INSERT INTO deliveries (id, issue_id, subscriber_id, email, status, attempts, sent_at) "
                          "VALUES (:id, 1, :id, :email, 'sent', 1, :now)"),
                  [{"id": i, "email": f"r{i}@remote.example.net", "now": now} for i in range(1, n + 1)])
    engine.dispose()


def messages(n: int, seed: int) -> list[tuple[str, bytes, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        rcpt, path = f"r{i}@remote.example.net", returnpath.for_delivery(SECRET, "bounces", "bounce.example.net", i)
        roll = rng.random()
        if roll < 0.02:
            out.append((path, arf(path, original_rcpt=rcpt), "complaint"))
        elif roll < 0.04:
            forged = path.split(".")[0] + ".aaaaaaaaaa@bounce.example.net"
            out.append((forged, dsn(forged, rcpt), "kept"))
        elif roll < 0.52:
            out.append((path, dsn(path, rcpt), "hard"))
        else:
            out.append((path, dsn(path, rcpt, status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"), "soft"))
    return out


def send_all(port: int, batch: list[tuple[str, bytes, str]], errors: list[str]) -> None:
    client = None
    for rcpt, raw, _kind in batch:
        for _attempt in range(3):
            try:
                if client is None:
                    client = smtplib.SMTP("127.0.0.1", port, timeout=60)
                client.sendmail("", [rcpt], raw)
                break
            except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
                if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code != 421:
                    errors.append(f"{rcpt}: {exc}")
                    break
                try:
                    client and client.close()
                finally:
                    client = None
    if client is not None:
        client.quit()


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--postgres", help="a scratch PostgreSQL database URL (emptied first) instead of SQLite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="digest-inbound-bench-"))
    url = args.postgres or f"sqlite:///{folder / 'digest.db'}"
    if args.postgres:
        engine = sa.create_engine(args.postgres)
        with engine.begin() as c:
            c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    port = free_port()
    (folder / "config.toml").write_text(CONFIG.format(url=url, port=port))
    load_settings(folder / "config.toml")  # the same checks the command makes
    fill(url, args.messages)
    batch = messages(args.messages, args.seed)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")} | {"DIGEST_SECRET_KEY": SECRET}
    log = open(folder / "inbound.log", "w")  # noqa: SIM115  (one line per message: a pipe would fill and block it)
    listener = subprocess.Popen([sys.executable, "-m", "digest", "--config", str(folder / "config.toml"), "inbound"],
                                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        errors: list[str] = []
        shares = [batch[i::args.clients] for i in range(args.clients)]
        started = time.perf_counter()
        threads = [threading.Thread(target=send_all, args=(port, share, errors)) for share in shares]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        engine = sa.create_engine(url)
        with engine.connect() as c:
            done = lambda: c.execute(sa.text("SELECT (SELECT count(*) FROM feedback) + "  # noqa: E731
                                             "(SELECT count(*) FROM kept_mail)")).scalar()
            while done() < args.messages and time.perf_counter() - started < 600:
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            kinds = dict(c.execute(sa.text("SELECT kind, count(*) FROM feedback GROUP BY kind")).all())
            kept = c.execute(sa.text("SELECT count(*) FROM kept_mail")).scalar()
            suppressed = dict(c.execute(sa.text("SELECT reason, count(*) FROM suppressions WHERE active "
                                                "GROUP BY reason")).all())
            scored = c.execute(sa.text("SELECT count(*) FROM bounce_scores")).scalar()
        engine.dispose()
        rss = peak_rss_mb(listener.pid)
    finally:
        listener.terminate()
        listener.wait(timeout=30)
        log.close()
    sent = {kind: sum(1 for _r, _m, k in batch if k == kind) for kind in ("hard", "soft", "complaint", "kept")}
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; {args.messages} messages over "
          f"{args.clients} connections (100 per connection, then reconnect)")
    print(f"end to end: {elapsed:.1f} s, {args.messages / elapsed:.0f} messages/s; listener peak RSS {rss:.0f} MB")
    print(f"sent:     hard {sent['hard']}  soft {sent['soft']}  complaints {sent['complaint']}  forged {sent['kept']}")
    print(f"recorded: hard {kinds.get('hard', 0)}  soft {kinds.get('soft', 0)}  complaints {kinds.get('complaint', 0)}"
          f"  kept {kept}")
    print(f"suppressed: {suppressed}; soft scores: {scored}; client-side errors: {len(errors)}"
          + (f" (first: {errors[0]})" if errors else ""))
    lost = args.messages - (sum(kinds.values()) + kept)
    print("nothing lost" if lost == 0 else f"LOST: {lost}")
    if args.keep:
        print(f"kept: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
