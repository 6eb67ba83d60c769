"""How fast is the REST API at 100,000 readers, and do webhooks keep up? (issue 27)

What it measures, all on 127.0.0.1, against a real `digest serve` process (its
own process, as in production) on SQLite, then on a scratch PostgreSQL database:
1. listing: every subscription page by page (limit 100, following next_cursor)
   at 100,000 readers: p50 / p99 latency per page and pages/s;
2. creating: N readers (default 10,000) with POST /api/v1/subscribers and a
   consent statement: p50 / p99 and requests/s;
3. webhooks: the consent events those creations made, delivered by
   `digest webhooks deliver` to a local receiver: events/s, and that every
   event arrived (nothing lost).
Goals: p99 < 50 ms for a page of 100 at 100,000 readers; webhooks >= 500 events/s, counted from the first event
the receiver gets to the last (the deliverer running, as the daemon's is), with the figure that includes the
process's start (Python's imports, then reading every event into the outbox) printed beside it. The last lines
(GOAL ...) say whether each goal was met, with the machine's load average.
One client, one connection kept alive, requests one after another (latency, not
concurrency). Prints figures; asserts nothing.

Run: .venv/bin/python bench/api.py [--readers 100000] [--creates 10000] [--no-pg] [--no-sqlite]
(the defaults take about 8 minutes on a quiet 2-core machine, most of it the 2 x 10,000 creates)
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SECRET = "bench-secret-key-0123456789abcdef"
HOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    def __init__(self) -> None:
        self.count = 0
        self.ids: set[str] = set()
        self.first = self.last = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.ids.add(self.headers.get("webhook-id", ""))
                receiver.count += 1
                receiver.last = time.perf_counter()
                receiver.first = receiver.first or receiver.last
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def write_config(folder: Path, url: str, port: int, hook_port: int) -> Path:
    (folder / "wire.xml").write_text("<rss version='2.0'><channel><title>x</title></channel></rss>")
    config = folder / "config.toml"
    config.write_text(f"""
[site]
name = "Bench Gazette"
base_url = "http://127.0.0.1:{port}"
postal_address = "1 Bench Road"
unsubscribe_mailbox = "unsubscribe@gazette.example.org"

[storage]
url = "{url}"

[delivery]
transport = "file"
outbox_dir = "outbox"

[api]
requests_per_minute = 100000000
webhook_allow_networks = ["127.0.0.0/8"]
webhook_allow_ports = [{hook_port}]

[[webhooks]]
name = "bench"
url = "http://127.0.0.1:{hook_port}/hook"
events = ["subscriber.confirmed"]
secret_env = "BENCH_HOOK_SECRET"

[[newsletters]]
slug = "daily"
title = "Bench Daily"
from_address = "Bench <daily@gazette.example.org>"

[[newsletters.sources]]
name = "Wire"
url = "wire.xml"
""")
    return config


def populate(url: str, readers: int) -> None:
    from digest.db import create_schema, make_engine
    from subscribers.models import Subscriber, Subscription

    engine = make_engine(url)
    create_schema(engine)
    with engine.begin() as connection:
        for first in range(0, readers, 50_000):
            ids = range(first + 1, min(first + 50_000, readers) + 1)
            connection.execute(sa.insert(Subscriber.__table__),
                               [{"id": i, "email": f"reader{i}@example.com", "created_at": NOW} for i in ids])
            connection.execute(sa.insert(Subscription.__table__), [
                {"id": i, "subscriber_id": i, "newsletter": "daily", "status": "confirmed", "created_at": NOW,
                 "confirmed_at": NOW} for i in ids])
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table in ("subscribers", "subscriptions"):
                connection.execute(sa.text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
            connection.execute(sa.text("ANALYZE"))
    engine.dispose()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (from /proc): what a request costs, whatever the load."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def database_pids(url: str) -> list[int]:
    """PostgreSQL's backends serving the bench's database (their CPU is the request's too); none on SQLite."""
    if not url.startswith("postgresql"):
        return []
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        pids = list(connection.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            .scalars())
    engine.dispose()
    return pids


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def run_case(label: str, url: str, readers: int, creates: int) -> dict:
    """The case's figures for the goals' summary."""
    env = {**os.environ, "DIGEST_SECRET_KEY": SECRET, "BENCH_HOOK_SECRET": HOOK_SECRET}
    with tempfile.TemporaryDirectory(prefix="digest-api-") as tmp:
        folder = Path(tmp)
        receiver = Receiver()
        port = free_port()
        config = write_config(folder, url, port, receiver.port)
        started = time.perf_counter()
        populate(url, readers)
        print(f"{label}: {readers:,} readers inserted in {time.perf_counter() - started:.1f} s", flush=True)
        digest = [sys.executable, "-m", "digest", "--config", str(config)]
        key = subprocess.run([*digest, "apikeys", "add", "bench", "--scope", "subscribers:read", "--scope",
                              "subscribers:write"], env=env, capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run([*digest, "webhooks", "deliver", "--once"], env=env, capture_output=True, check=True)
        server = subprocess.Popen([*digest, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"},
                                  timeout=30)
            for _ in range(200):
                try:
                    client.get("/api/v1/openapi.json")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            times, cursor, rows = [], None, 0
            client.get("/api/v1/subscribers", params={"limit": 1})  # the server's pool holds its connection
            pids = [server.pid, *database_pids(url)]
            cpu = cpu_seconds(pids)
            wall = time.perf_counter()
            while True:
                t = time.perf_counter()
                page = client.get("/api/v1/subscribers", params={"limit": 100, **({"cursor": cursor} if cursor
                                                                                   else {})})
                times.append(time.perf_counter() - t)
                body = page.json()
                rows += len(body["data"])
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            wall = time.perf_counter() - wall
            cpu = (cpu_seconds(pids) - cpu) / len(times) * 1000
            figures = {"list_p99": percentile(times, 99), "pages": len(times), "rows": rows, "list_cpu": cpu}
            print(f"  list: {rows:,} rows in {len(times):,} pages of 100: p50 {percentile(times, 50):.1f} ms, "
                  f"p99 {percentile(times, 99):.1f} ms, {len(times) / wall:.0f} pages/s; CPU a page {cpu:.2f} ms "
                  f"(server{' + database' if len(pids) > 1 else ''})", flush=True)
            times = []
            wall = time.perf_counter()
            for i in range(creates):
                t = time.perf_counter()
                made = client.post("/api/v1/subscribers", json={
                    "email": f"new{i}@example.org", "newsletter": "daily", "consent_obtained": True,
                    "consent_statement": "bench: ticked the box at registration"})
                times.append(time.perf_counter() - t)
                if made.status_code != 201:
                    raise SystemExit(f"create {i}: {made.status_code} {made.text}")
            wall = time.perf_counter() - wall
            print(f"  create: {creates:,} readers: p50 {percentile(times, 50):.1f} ms, p99 {percentile(times, 99):.1f}"
                  f" ms, {creates / wall:.0f} requests/s", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
        # The deliverer as in production (a long-running process); the clock runs until the receiver has them all.
        wall = started_deliverer = time.perf_counter()
        deliverer = subprocess.Popen([*digest, "webhooks", "deliver", "--poll", "0.2"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while len(receiver.ids) < creates and time.perf_counter() - wall < 600:
                time.sleep(0.05)
            wall = time.perf_counter() - wall
        finally:
            deliverer.terminate()
            deliverer.wait(timeout=30)
        steady = (len(receiver.ids) - 1) / max(receiver.last - receiver.first, 1e-9)
        first = receiver.first - started_deliverer
        print(f"  webhooks: {receiver.count:,} POSTs ({len(receiver.ids):,} distinct ids) of {creates:,} events in "
              f"{wall:.1f} s with the process start: {len(receiver.ids) / wall:.0f} events/s; the first event "
              f"{first:.1f} s after the start (imports, then the {creates:,} events read into the outbox); first to "
              f"last event received: {steady:.0f} events/s; lost: {creates - len(receiver.ids)}", flush=True)
        figures.update(webhooks=steady, lost=creates - len(receiver.ids), duplicates=receiver.count - len(receiver.ids),
                       end_to_end=len(receiver.ids) / wall)
        receiver.httpd.shutdown()
        receiver.httpd.server_close()
    return figures


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readers", type=int, default=100_000)
    ap.add_argument("--creates", type=int, default=10_000)
    ap.add_argument("--pg", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    a = ap.parse_args(argv)
    print(f"# bench/api.py {datetime.now().astimezone().isoformat(timespec='seconds')}; {os.cpu_count()} cores")
    started, results = time.perf_counter(), {}
    if a.sqlite:
        with tempfile.TemporaryDirectory(prefix="digest-api-db-") as tmp:
            results["SQLite"] = run_case("SQLite", f"sqlite:///{tmp}/digest.db", a.readers, a.creates)
    if a.pg:
        admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT")
        name = f"digest_bench_api_{os.getpid()}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            results["PostgreSQL"] = run_case("PostgreSQL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
                                             a.readers, a.creates)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(f"# goals ({time.perf_counter() - started:.0f} s in all; load average {os.getloadavg()[0]:.1f}, "
          f"{os.getloadavg()[2]:.1f} over 15 minutes: above {os.cpu_count()} the machine was busy)")
    for label, f in results.items():
        print(f"GOAL {label} list p99 < 50 ms for a page of 100 at {f['rows']:,} readers: {f['list_p99']:.1f} ms "
              f"{'MET' if f['list_p99'] < 50 else 'NOT MET'} (CPU a page: {f['list_cpu']:.2f} ms)")
        print(f"GOAL {label} webhooks >= 500 events/s, none lost: {f['webhooks']:.0f} events/s, lost {f['lost']} "
              f"{'MET' if f['webhooks'] >= 500 and f['lost'] == 0 else 'NOT MET'} (with the deliverer's start: "
              f"{f['end_to_end']:.0f} events/s; sent twice: {f['duplicates']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
