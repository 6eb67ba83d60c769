"""The counted-link redirect (issue 26): requests/s of /r/<token> on one core with SQLite, p50/p99 latency,
and whether every click was written after a SIGTERM.

A real issue is made by the real `digest send` (30 stories from a local feed,
analytics.clicks on, the file transport); then the real `digest serve` runs in
its own process pinned to one core (uvicorn, its access log on as deployed, or
off with --no-access-log: uvicorn.run on create_app), and a client in another
process, pinned to the other core, keeps --connections HTTP/1.1 keep-alive
connections busy for --seconds, each request a random link of the issue from
one network (so the burst rule marks nearly all of them machines). The
server is then sent SIGTERM; the clicks table must hold every request answered.

  .venv/bin/python bench/clicks.py [--seconds 10] [--connections 16] [--modes bare,app,digest]

About a minute with the defaults. The last line is the figure to quote: the
redirects/s of `digest serve` as deployed, its p99, and the goal
(>= 2,000 a second on one core with SQLite) met or not; label it with the
load average it prints (another process on the server's core takes its share).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SECRET = "bench-secret-not-for-production"
AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_issue(folder: Path, port: int) -> tuple[Path, list[str]]:
    """A config, a feed of 30 stories and one reader; `digest send` makes and sends the issue; its tokens."""
    items = "".join(f"<item><title>Story {i}</title><link>https://news.example.org/story/{i}</link>"
                    f"<guid>story-{i}</guid><pubDate>Sun, 06 Dec 2026 0{i % 10}:00:00 GMT</pubDate>"
                    f"<description>Story {i} happened. It mattered to many people. More is expected.</description>"
                    f"</item>" for i in range(30))
    (folder / "feed.xml").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>'
                                     f'<link>https://news.example.org/</link>{items}</channel></rss>')
    config = folder / "config.toml"
    config.write_text(textwrap.dedent(f"""\
        [site]
        name = "Bench"
        base_url = "http://127.0.0.1:{port}"
        postal_address = "1 Bench Road"
        unsubscribe_mailbox = "unsubscribe@bench.example.org"
        [storage]
        url = "sqlite:///digest.db"
        [delivery]
        transport = "file"
        processes = 1
        [gather]
        first_run_max_items = 30
        first_run_max_age_days = 0
        max_pages_per_source = 0
        [analytics]
        clicks = true
        [[newsletters]]
        slug = "daily"
        title = "Bench Daily"
        from_address = "Bench <daily@bench.example.org>"
        max_items = 30
        [[newsletters.sources]]
        name = "Desk"
        url = "feed.xml"
        """))
    (folder / "readers.csv").write_text("email\nreader@example.com\n")
    env = {**os.environ, "DIGEST_SECRET_KEY": SECRET}
    for args in (("subscribers", "import", "readers.csv", "-n", "daily", "--consent-obtained"), ("send", "daily")):
        subprocess.run([sys.executable, "-m", "digest", "--config", str(config), *args], cwd=folder, env=env,
                       check=True, capture_output=True)
    from digest.render.links import click_key, link_token
    with sqlite3.connect(folder / "digest.db") as db:
        rows = db.execute("SELECT issue_id, number FROM click_links WHERE kind = 'link'").fetchall()
    key = click_key(SECRET)
    return config, [f"/r/{link_token(key, issue, number)}" for issue, number in rows]


BARE = """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
async def follow(request):
    return Response(status_code=302, headers={"Location": "https://news.example.org/story/1"})
app = Starlette(routes=[Route("/r/{token}", follow)])
"""


def serve(config: Path, port: int, mode: str) -> subprocess.Popen:
    """mode: "digest" (the real `digest serve`, access log on), "app" (uvicorn.run on create_app, no access
    log) or "bare" (a one-route Starlette app answering 302: what this machine's stack can do at all)."""
    env = {**os.environ, "DIGEST_SECRET_KEY": SECRET}
    if mode == "digest":
        command = [sys.executable, "-m", "digest", "--config", str(config), "serve", "--port", str(port)]
    else:
        app = BARE if mode == "bare" else textwrap.dedent(f"""\
            from digest.config import load_settings
            from digest.flows.runtime import Runtime
            from digest.web.app import create_app
            rt = Runtime.create(load_settings({str(config)!r}))
            app = create_app(rt.settings, rt.sessions, rt.transport_factory)
            """)
        command = [sys.executable, "-c", app + textwrap.dedent(f"""
            import uvicorn
            uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", access_log=False,
                        proxy_headers=False)
            """)]
    log = open(config.parent / "serve.log", "w")
    server = subprocess.Popen(command, cwd=config.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                              preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return server
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start: " + (config.parent / "serve.log").read_text())


async def one_connection(port: int, paths: list[str], until: float, latencies: list[float], network: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    rng = random.Random(network)
    while time.perf_counter() < until:
        path = rng.choice(paths)
        # All from 127.0.0.1, one network: the burst rule's worst case (every click in one group).
        started = time.perf_counter()
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {AGENT}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        assert head.startswith(b"HTTP/1.1 302"), head[:80]
        done += 1
    writer.close()
    return done


def client(port: int, paths: list[str], seconds: float, connections: int) -> tuple[int, list[float], float]:
    os.sched_setaffinity(0, {1 % os.cpu_count()})
    latencies: list[float] = []

    async def main() -> int:
        until = time.perf_counter() + seconds
        counts = await asyncio.gather(*(one_connection(port, paths, until, latencies, n) for n in range(connections)))
        return sum(counts)

    started = time.perf_counter()
    total = asyncio.run(main())
    return total, latencies, time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def stack() -> str:
    import importlib.util
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"uvicorn {http} + {loop}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its threads (the recorder's included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(config: Path, paths: list[str], mode: str, args) -> tuple[int, int, list[float], float, int, float]:
    """(warm-up requests, requests, latencies, seconds, server exit code, server CPU seconds while measured)."""
    port = int(config.read_text().split("127.0.0.1:")[1].split('"')[0])
    server = serve(config, port, mode)
    try:
        warm = client(port, paths, 1.0, 4)[0]  # the issue's links read, the recorder's thread started
        cpu = cpu_seconds(server.pid)
        total, latencies, took = client(port, paths, args.seconds, args.connections)
        time.sleep(2.5)  # the last clicks' classification and write, counted in the CPU too
        cpu = cpu_seconds(server.pid) - cpu
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(60)
    return warm, total, latencies, took, code, cpu


def send_rate(db: Path, recipients: int, rounds: int = 5) -> tuple[float, float, float]:
    """Messages/s of building each reader's message (bytes spliced per reader, as the engine does) from the
    issue with counted links and from the same issue with its article links put back: the per-reader cost
    of counting links (the rewrite itself happens once per issue); and per reader (analytics.per_reader: each
    reader's signed part spliced after every counted link, as flows/sending does)."""
    from datetime import datetime, timezone

    from digest.content import RenderedIssue
    from digest.render.links import without_beacons
    from digest.render.message import build_template, personalize
    with sqlite3.connect(db) as conn:
        subject, html, text, mark = conn.execute("SELECT subject, html, text, personal_mark FROM issues").fetchone()
        targets = conn.execute("SELECT number, url FROM click_links WHERE kind = 'link'").fetchall()
        numbers = [n for (n,) in conn.execute("SELECT number FROM click_links WHERE kind IN ('link', 'canary')")]
    from digest.render.links import click_key, link_token, reader_parts
    key, plain_html, plain_text = click_key(SECRET), without_beacons(html), text
    for number, url in targets:
        counted = f"/r/{link_token(key, 1, number)}"
        plain_html = plain_html.replace(f"http://127.0.0.1:{PORT_OF[db]}{counted}", url)
        plain_text = plain_text.replace(f"http://127.0.0.1:{PORT_OF[db]}{counted}", url)
    assert "/r/" not in plain_html and "/r/" not in plain_text

    own = tuple(f"http://127.0.0.1:{PORT_OF[db]}/r/{link_token(key, 1, n)}" for n in numbers)
    sign = reader_parts(key, 1)  # once per issue, as flows/clicklinks.reader_links does for a send

    def rate(body_html: str, body_text: str, reader_links: tuple[str, ...] = ()) -> float:
        template = build_template(RenderedIssue(subject, body_html, body_text, mark), from_address="daily@b.example",
                                  list_id="daily", list_name="Bench", base_url="http://127.0.0.1",
                                  unsubscribe_mailbox="u@b.example", message_id_prefix="bench",
                                  date=datetime.now(timezone.utc), reader_links=reader_links)
        started = time.perf_counter()
        for n in range(recipients):
            personalize(template, to=f"reader{n}@example.com", token=f"token{n:08d}", personal_id=str(n),
                        reader=sign(n) if reader_links else "")
        return recipients / (time.perf_counter() - started)

    counted, plain, readers = [], [], []
    for _ in range(rounds):  # alternated, best of each: the machine's other load hits all alike
        counted.append(rate(html, text))
        plain.append(rate(plain_html, plain_text))
        readers.append(rate(html, text, own))
    return max(counted), max(plain), max(readers)


PORT_OF: dict[Path, int] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--recipients", type=int, default=20000, help="for the send row (0: none)")
    parser.add_argument("--modes", default="bare,app,digest",
                        help="bare (one-route Starlette: the ceiling), app (create_app, no access log), digest "
                             "(`digest serve` as deployed)")
    args = parser.parse_args()
    print(f"server pinned to one core ({stack()}); client: {args.connections} keep-alive connections on the other"
          f" core; load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        config, paths = make_issue(Path(folder), port)
        db = Path(folder) / "digest.db"
        PORT_OF[db] = port
        if args.recipients:
            counted, plain, readers = send_rate(db, args.recipients)
            print(f"  send: {counted:,.0f} messages/s with counted links, {plain:,.0f} without: "
                  f"{counted / plain:.2f} of the rate (one core, building and splicing each reader's bytes); "
                  f"per reader {readers:,.0f}/s: {readers / plain:.2f}")
        results = {}
        for mode in args.modes.split(","):
            with sqlite3.connect(db) as conn:
                before = conn.execute("SELECT count(*) FROM clicks").fetchone()[0]
            warm, total, latencies, took, code, cpu = measure(config, paths, mode, args)
            results[mode] = (total / took, percentile(latencies, 0.99) * 1000, total / cpu)
            print(f"{mode:>6}: {total / took:,.0f} requests/s ({total} in {took:.1f} s); latency p50 "
                  f"{percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms; "
                  f"server CPU {cpu / total * 1e6:.0f} us a request: {total / cpu:,.0f} requests/s per busy core")
            if mode == "bare":
                continue
            with sqlite3.connect(db) as conn:
                stored = conn.execute("SELECT count(*) FROM clicks").fetchone()[0] - before
            answered = warm + total
            how = "re-raised SIGTERM after a clean shutdown" if code == -signal.SIGTERM else f"exit {code}"
            print(f"        after SIGTERM ({how}): {stored} clicks stored of {answered} answered: "
                  f"{'nothing lost' if stored == answered else f'{answered - stored} LOST'}")
        with sqlite3.connect(db) as conn:
            print("verdicts:", dict(conn.execute("SELECT verdict, count(*) FROM clicks GROUP BY verdict").fetchall()))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    mode = "digest" if "digest" in results else next(iter(results), "")
    if mode:
        rate, p99, per_core = results[mode]
        print(f"RESULT {mode}: {rate:,.0f} redirects/s on one core with SQLite (p99 {p99:.1f} ms; "
              f"{per_core:,.0f}/s per busy core by CPU time); goal >= 2,000/s: {'met' if rate >= 2000 else 'NOT met'}")


if __name__ == "__main__":
    main()
