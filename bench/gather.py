"""Seconds to gather 200 feeds served from a loopback HTTP server: sequential vs concurrent.

The feeds are the 200 largest files of the feed-robustness corpus in
../shared/evaldata/feeds (its real-world snapshots first: most of the rest are
feedparser's one-feature test files), served unchanged from 127.0.0.1; nothing
from it is copied here. Each run is the real pipeline (digest.flows.sending.gather_all: fetch,
parse, sanitize, store in a fresh SQLite file). Article pages are never fetched
(max_pages_per_source = 0): the corpus links point at real sites.

Loopback answers in microseconds, so the first pair of figures mostly measures
parsing and storing (CPU, which threads share under the GIL); the second pair
adds a per-request delay on the server, standing in for the network time of
real feeds, which is where fetching sources concurrently pays. All feeds share
one host here, so per_host_concurrency is raised to max_concurrency; on real
feeds each host keeps its own limit.

Run: .venv/bin/python bench/gather.py [--feeds 200] [--latency 0.1] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from digest.flows import gathering
from digest.flows.runtime import Runtime
from digest.config import load_settings

REPO = Path(__file__).resolve().parents[1]
EVALDATA = REPO.parent / "shared" / "evaldata"

CONFIG = """\
[site]
name = "Bench"
base_url = "https://bench.example.org"
postal_address = "1 Bench Road"
unsubscribe_mailbox = "unsubscribe@bench.example.org"

[storage]
url = "sqlite:///digest.db"

[gather]
timeout = 10.0
max_concurrency = {concurrency}
per_host_concurrency = {concurrency}
max_pages_per_source = 0
first_run_max_items = 50
first_run_max_age_days = 0

[[newsletters]]
slug = "bench"
title = "Bench"
from_address = "bench@bench.example.org"
"""


def corpus(count: int) -> list[tuple[str, bytes]]:
    if not (EVALDATA / "load_feeds.py").exists():
        sys.exit(f"skipped: no feed corpus at {EVALDATA} (expected load_feeds.py there)")
    sys.path.insert(0, str(EVALDATA))
    import load_feeds  # noqa: PLC0415 - found only at run time, outside the repo

    feeds = sorted(((feed_id, Path(path)) for feed_id, path, _info in load_feeds.iter_feeds()),
                   key=lambda feed: (-feed[1].stat().st_size, feed[0]))
    return [(feed_id, path.read_bytes()) for feed_id, path in feeds[:count]]


def serve(feeds: list[tuple[str, bytes]], latency: float) -> tuple[ThreadingHTTPServer, dict]:
    bodies = {f"/{i}": body for i, (_feed_id, body) in enumerate(feeds)}
    settings = {"latency": latency}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            time.sleep(settings["latency"])
            body = bodies.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, settings


def gather_seconds(port: int, count: int, concurrency: int) -> tuple[float, int, int]:
    """(seconds, sources without error, articles stored) for one run on a fresh database."""
    with tempfile.TemporaryDirectory() as folder:
        sources = "".join(f'\n[[newsletters.sources]]\nname = "feed {i}"\nurl = "http://127.0.0.1:{port}/{i}"\n'
                          for i in range(count))
        config = Path(folder) / "config.toml"
        config.write_text(CONFIG.format(concurrency=concurrency) + sources)
        rt = Runtime.create(load_settings(config, environ={}))
        started = time.perf_counter()
        results = gathering.gather_all(rt)
        seconds = time.perf_counter() - started
        rt.sessions.kw["bind"].dispose()
    return seconds, sum(1 for r in results if not r.error), sum(len(r.entries) for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the server waits before answering")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    logging.disable(logging.ERROR)  # the corpus has malformed feeds on purpose: one log line each is noise here
    feeds = corpus(args.feeds)
    httpd, server = serve(feeds, 0.0)
    port = httpd.server_address[1]
    print(f"{len(feeds)} feeds ({sum(len(b) for _i, b in feeds) / 1e6:.1f} MB) from the corpus, "
          f"served on 127.0.0.1:{port}")
    for latency in (0.0, args.latency):
        server["latency"] = latency
        for label, workers in (("sequential", 1), (f"concurrent ({args.concurrency})", args.concurrency)):
            seconds, ok, entries = gather_seconds(port, len(feeds), workers)
            print(f"latency {latency * 1000:4.0f} ms  {label:16} {seconds:6.2f} s  "
                  f"({ok} feeds read, {len(feeds) - ok} per-source errors, {entries} entries)")
    httpd.shutdown()


if __name__ == "__main__":
    main()
