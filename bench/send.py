"""Delivery benchmark (issue 4): our sender against Postfix's smtp-sink, with smtp-source as the reference.

Prints figures; asserts nothing. In one run, all on 127.0.0.1:

1. reference: Postfix `smtp-source -d -s 16` (16 sessions, each reusing its
   connection) -> `smtp-sink`, sending the very bytes of one of our digests;
2. our sender on SQLite, per list size (default 10,000 and 100,000 confirmed
   subscribers) and per `delivery.connections` (default 4 and 8): the enqueue
   (store.create_issue's INSERT ... SELECT up to its commit, timed inside
   `digest send --enqueue`), then `digest worker --once` in a subprocess:
   msgs/s over its send window, ratio to the reference, peak RSS (the
   process's own VmHWM, read by itself at exit), its CPU and smtp-sink's;
3. two `digest worker --once` processes at once on PostgreSQL (a fresh
   database on 127.0.0.1:5432, user postgres, dropped at the end);
4. memory flatness: an issue of 1,000,000 deliveries, the worker stopped with
   SIGTERM after as many messages as the largest list above (it finishes the
   messages in flight and exits); its peak RSS against that list's;
5. a summary table with the issue's targets.

The `digest` processes are the real CLI, started through a few lines of
bootstrap that wrap store.create_issue and pipeline.send_existing_issue with
timers (printed as `BENCH {json}` lines on stderr), so interpreter start-up and
imports are not counted as sending time; process wall times are shown as well.

smtp-source and smtp-sink come from Debian's postfix package, unpacked (not
installed, nothing started) as ../shared/tools/smtp_limit/smtp_limit.sh does;
this script does that itself when /tmp/postfix is missing, and reuses that
tool's helpers (server start/stop, port search, wait4 with a cap) by importing
smtp_limit.py from beside the repository.

Run:  .venv/bin/python bench/send.py                      # everything, ~6-8 min
      .venv/bin/python bench/send.py --sizes 10000 --no-pg --no-million   # quick, ~1 min
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMTP_LIMIT = REPO.parent / "shared" / "tools" / "smtp_limit" / "smtp_limit.py"
HOST = "127.0.0.1"
SECRET = "bench-secret-key-not-for-production"
SLUG = "daily"
PG_ADMIN = os.environ.get("DIGEST_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NOW = datetime.now(UTC).replace(microsecond=0)
TARGET_RENDERED = 30_000  # bytes of rendered HTML + text
MIB = 1024 * 1024

# Targets from issue 4 (2-core machine).
T_ONE = 0.25
T_TWO_PG = 0.35
T_RSS_MB = 120.0
T_FLAT = 0.10
T_ENQUEUE_S = 2.0

# Runs inside each `digest` subprocess: the real CLI, with timers around the two calls we measure.
BOOTSTRAP = r'''
import atexit, json, sys, time
from sqlalchemy import event
from sqlalchemy.orm import Session
from digest import pipeline, store

def _say(**data):
    print("BENCH " + json.dumps(data), file=sys.stderr, flush=True)

@atexit.register
def _peak():
    # VmHWM: this program's own high-water mark. (ru_maxrss is not: across fork/vfork + exec Linux
    # carries over the parent's high-water mark, i.e. the bench process's.)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            _say(vmhwm_kb=int(line.split()[1]))

_pending = []
_create_issue = store.create_issue
def create_issue(*args, **kwargs):
    _pending.append(time.monotonic())
    return _create_issue(*args, **kwargs)
store.create_issue = create_issue

@event.listens_for(Session, "after_commit")
def _committed(session):
    if _pending:
        _say(enqueue=[_pending.pop(), time.monotonic()])

_send = pipeline.send_existing_issue
def send_existing_issue(*args, **kwargs):
    t0, c0 = time.monotonic(), time.process_time()
    report = _send(*args, **kwargs)
    _say(send=[t0, time.monotonic()], cpu=time.process_time() - c0, sent=report.sent, failed=report.failed,
         skipped=report.skipped, stopped=report.stopped, finished=report.finished,
         errors=report.errors[:3])
    return report
pipeline.send_existing_issue = send_existing_issue

from digest.cli import main
main()
'''


# --------------------------------------------------------------------------------------------
# Helpers borrowed from ../shared/tools/smtp_limit (imported, not copied)
# --------------------------------------------------------------------------------------------

def load_smtp_limit():
    if not SMTP_LIMIT.exists():
        sys.exit(f"bench/send.py: {SMTP_LIMIT} not found (the smtp_limit tool beside the repository)")
    spec = importlib.util.spec_from_file_location("smtp_limit", SMTP_LIMIT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["smtp_limit"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def ensure_postfix(postfix_dir: str) -> None:
    """smtp-source/smtp-sink from Debian's postfix package: `apt-get download` + `dpkg -x`, nothing installed."""
    sbin = Path(postfix_dir) / "usr/sbin"
    if (sbin / "smtp-source").exists() and (sbin / "smtp-sink").exists():
        return
    print(f"setup: apt-get download postfix; dpkg -x into {postfix_dir}", flush=True)
    dl = tempfile.mkdtemp(prefix="bench-send-deb.", dir="/tmp")
    os.chmod(dl, 0o755)
    try:
        if subprocess.run(["apt-get", "download", "postfix"], cwd=dl, capture_output=True,
                          check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "download", "postfix"], cwd=dl, check=True)
        debs = list(Path(dl).glob("postfix_*.deb"))
        os.makedirs(postfix_dir, exist_ok=True)
        subprocess.run(["dpkg", "-x", str(debs[0]), postfix_dir], check=True)
    finally:
        shutil.rmtree(dl, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Process bookkeeping: everything started here is stopped in Children.close()
# --------------------------------------------------------------------------------------------

class Children:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, cmd, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def forget(self, proc) -> None:
        if proc in self.procs:
            self.procs.remove(proc)

    def close(self) -> None:
        for proc in list(self.procs):
            if proc.returncode is None and proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=15)
                except ProcessLookupError:
                    pass
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)
            self.forget(proc)


def wait4(proc: subprocess.Popen, timeout: float, poll=None):
    """Reap `proc` (rusage of that process alone); `poll()` runs every 0.25 s; SIGKILL after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage
        if time.monotonic() > deadline:
            os.kill(proc.pid, signal.SIGKILL)
            _pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage
        if poll is not None:
            poll()
        time.sleep(0.25)


def vm_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def cpu_snapshot() -> dict[int, tuple[str, int, int]]:
    """pid -> (command name, parent pid, CPU clock ticks) of every process on the host.

    The ticks include reaped children (cutime + cstime), so a PostgreSQL backend that exits before
    the second snapshot still shows up, in its postmaster's count.
    """
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    data = f.read()
            except OSError:
                continue
            comm = data[data.index("(") + 1:data.rindex(")")]
            rest = data[data.rindex(")") + 2:].split()
            out[int(entry.name)] = (comm, int(rest[1]), sum(int(x) for x in rest[11:15]))
    return out


def top_cpu(before: dict, after: dict, seconds: float, exclude: set[int], n: int = 4) -> str:
    """The biggest CPU users between two snapshots, by command name, in % of one core."""
    by_comm: dict[str, int] = {}
    for pid, (comm, _ppid, ticks) in after.items():
        if pid in exclude or pid == os.getpid():
            continue
        by_comm[comm] = by_comm.get(comm, 0) + ticks - (before[pid][2] if pid in before else 0)
    for pid, (comm, ppid, ticks) in before.items():
        if pid not in after and ppid in after and ppid not in exclude:  # reaped: counted in its parent's total
            parent = after[ppid][0]
            by_comm[parent] = by_comm.get(parent, 0) - ticks
    hz, seconds = os.sysconf("SC_CLK_TCK"), max(seconds, 1e-9)
    top = sorted(by_comm.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{comm} {100 * ticks / hz / seconds:.0f}%" for comm, ticks in top
                     if 100 * ticks / hz / seconds >= 1) or "-"


def bench_lines(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("BENCH "):
            out.append(json.loads(line[6:]))
    return out


def tail(path: Path, n: int = 800) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------
# The data: config, subscribers, articles
# --------------------------------------------------------------------------------------------

PLACES = ["Kyiv", "Lviv", "the harbour district", "the old town", "the northern suburbs", "Odesa", "the river port",
          "the university quarter", "the central market", "the airport"]
SUBJECTS = ["The city council", "The regional health office", "A group of local traders", "The transport authority",
            "The school board", "Residents of the district", "The energy company", "The fire service",
            "A coalition of tenants", "The museum's director"]
VERBS = ["approved a plan", "asked for more money", "published new figures", "announced a review",
         "warned of delays", "opened a consultation", "signed a contract", "postponed a decision"]
OBJECTS = ["to repair the tram lines", "to extend the night bus trial", "for the new water mains",
           "on winter heating", "about school meals", "for a second bridge", "on rents in the centre",
           "to plant two thousand trees", "on the future of the market hall", "about parking permits"]
TAILS = ["after a meeting that lasted until late on Monday evening",
         "citing a shortfall of about {n} million in this year's budget",
         "and said the first results should be known by {month}",
         "although critics said the figures did not add up",
         "following complaints from more than {n} hundred residents",
         "in a statement published on its website on Tuesday",
         "with work due to start in {month} if the money arrives",
         "despite a petition signed by {n} thousand people"]
MONTHS = ["March", "April", "May", "June", "September", "October", "November"]


def article_texts(count: int, seed: int = 4) -> list[tuple[str, str]]:
    rnd = random.Random(seed)
    out = []
    for k in range(count):
        sentences = []
        for _ in range(9):
            tail_ = rnd.choice(TAILS).format(n=rnd.randint(2, 40), month=rnd.choice(MONTHS))
            sentences.append(f"{rnd.choice(SUBJECTS)} in {rnd.choice(PLACES)} {rnd.choice(VERBS)} "
                             f"{rnd.choice(OBJECTS)}, {tail_}.")
        title = f"{rnd.choice(SUBJECTS)} {rnd.choice(VERBS)} {rnd.choice(OBJECTS)} (story {k + 1})"
        out.append((title, " ".join(sentences)))
    return out


ARTICLES = 60  # stored per database; newsletter.max_items (calibrated) picks how many go into the issue


def write_config(folder: Path, *, url: str, port: int, connections: int, max_items: int,
                 batch_size: int = 50) -> Path:
    path = folder / "config.toml"
    path.write_text(textwrap.dedent(f"""\
        [site]
        name = "Bench Gazette"
        base_url = "https://gazette.example.org"
        postal_address = "1 Bench Road, Benchville"
        unsubscribe_mailbox = "unsubscribe@gazette.example.org"
        feedback_id = "bench"

        [storage]
        url = "{url}"

        [delivery]
        transport = "smtp"
        connections = {connections}
        batch_size = {batch_size}

        [delivery.smtp]
        host = "{HOST}"
        port = {port}
        timeout = 30.0

        [[newsletters]]
        slug = "{SLUG}"
        title = "Bench Daily"
        description = "Benchmark digest."
        from_address = "Bench Daily <daily@gazette.example.org>"
        max_items = {max_items}
        summary_sentences = 3
        reply_to = "letters@gazette.example.org"

        [[newsletters.sources]]
        name = "Wire"
        url = "wire.xml"
        category = "News"
        """), encoding="utf-8")
    return path


def populate(url: str, config: Path, subscribers: int) -> float:
    """Schema (Alembic), `subscribers` confirmed subscribers and the articles, with SQLAlchemy core. Seconds."""
    from sqlalchemy import insert

    from digest.config import load_settings
    from digest.db import create_schema, make_engine
    from digest.models import Article
    from subscribers.models import Subscriber, Subscription

    started = time.perf_counter()
    source_url = load_settings(config, {}).newsletter(SLUG).sources[0].url
    engine = make_engine(url)
    create_schema(engine)
    chunk = 50_000
    with engine.begin() as connection:
        for first in range(0, subscribers, chunk):
            ids = range(first + 1, min(first + chunk, subscribers) + 1)
            connection.execute(insert(Subscriber.__table__),
                               [{"id": i, "email": f"reader{i}@example.com", "created_at": NOW} for i in ids])
            connection.execute(insert(Subscription.__table__),
                               [{"id": i, "subscriber_id": i, "newsletter": SLUG, "status": "confirmed",
                                 "created_at": NOW, "confirmed_at": NOW} for i in ids])
        connection.execute(insert(Article.__table__), [
            {"uid": f"bench-{k}", "source_url": source_url, "source_name": "Wire",
             "link": f"https://news.example.org/2026/story-{k}", "title": title, "text": text,
             "author": "Desk", "categories": "News", "published_at": NOW - timedelta(minutes=k),
             "fetched_at": NOW, "backlog": False}
            for k, (title, text) in enumerate(article_texts(ARTICLES))])
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # sequences past the explicit ids; fresh statistics
            from sqlalchemy import text
            connection.execute(text("SELECT setval('subscribers_id_seq', (SELECT max(id) FROM subscribers))"))
            connection.execute(text("SELECT setval('subscriptions_id_seq', (SELECT max(id) FROM subscriptions))"))
            connection.execute(text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def calibrate(folder: Path, port: int) -> tuple[int, int, int, bytes]:
    """max_items whose rendered HTML + text is closest to TARGET_RENDERED; also one finished message's bytes."""
    import dataclasses

    from digest import pipeline
    from digest.config import load_settings
    from digest.content import RenderedIssue
    from digest.message import personalize
    from subscribers import make_unsubscribe_token

    url = f"sqlite:///{folder / 'calibrate.db'}"
    config = write_config(folder, url=url, port=port, connections=1, max_items=ARTICLES)
    populate(url, config, 1)
    settings = load_settings(config, {"DIGEST_SECRET_KEY": SECRET})
    rt = pipeline.Runtime.create(settings)
    sizes = {}

    def size(k: int) -> int:
        if k not in sizes:
            newsletter = dataclasses.replace(settings.newsletter(SLUG), max_items=k)
            r = pipeline.draft_issue(rt, newsletter).rendered
            sizes[k] = len(r.html.encode()) + len(r.text.encode())
        return sizes[k]

    low, high = 1, ARTICLES
    while low < high:  # smallest k with size >= target
        mid = (low + high) // 2
        if size(mid) >= TARGET_RENDERED:
            high = mid
        else:
            low = mid + 1
    k = low
    if k > 1 and TARGET_RENDERED - size(k - 1) < size(k) - TARGET_RENDERED:
        k -= 1
    newsletter = dataclasses.replace(settings.newsletter(SLUG), max_items=k)
    draft = pipeline.draft_issue(rt, newsletter)
    template = pipeline._template(rt, newsletter, RenderedIssue(draft.rendered.subject, draft.rendered.html,
                                                                draft.rendered.text), "digest.1.20261124070000")
    message = personalize(template, to="reader1@example.com",
                          token=make_unsubscribe_token(SECRET, 1, SLUG), personal_id="1")
    rt.sessions.kw["bind"].dispose()
    return k, size(k), len(draft.issue.items), message


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------

@dataclass
class Send:
    label: str
    db: str
    subscribers: int
    connections: int
    processes: int = 1
    sent: int = 0
    failed: int = 0
    seconds: float = 0.0       # send window (first send_existing_issue start -> last end)
    wall: float = 0.0          # process wall time(s), start-up included
    rss_mb: list[float] = field(default_factory=list)   # peak (wait4 ru_maxrss)
    rss_early_mb: list[float] = field(default_factory=list)  # VmRSS 1 s after the send started
    cpu_pct: list[float] = field(default_factory=list)  # sender process CPU over its send window, % of one core
    sink_cpu_pct: float | None = None
    host_busy_pct: float | None = None
    stopped_early: bool = False
    others: str = ""           # other processes' CPU during the run (PostgreSQL, other people's work)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


class Bench:
    def __init__(self, args, sl, children: Children) -> None:
        self.args, self.sl, self.children = args, sl, children
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-send-", dir="/tmp"))
        self.ports = sl.PortAllocator(args.port_base)
        self.servers = sl.Servers(str(self.workdir), args.postfix_dir)
        self.env = {**os.environ, "DIGEST_SECRET_KEY": SECRET, "PYTHONPATH": str(args.src)}
        self.python = sys.executable
        self.references: list[tuple[float, float, float]] = []  # (msgs/s, sink CPU %, host busy %)
        self.enqueues: list[tuple[str, int, float, float]] = []  # (db, deliveries, create_issue s, process s)
        self.sends: list[Send] = []
        self.pg_databases: list[str] = []
        self.max_items = 0
        self.message = b""
        self.seq = 0

    # -- processes ----------------------------------------------------------------------------

    def digest(self, config: Path, *argv: str, tag: str):
        self.seq += 1
        log = self.workdir / f"{self.seq:02d}-{tag}.log"
        with open(log, "wb") as out:
            proc = self.children.start([self.python, "-c", BOOTSTRAP, "--config", str(config), *argv],
                                       cwd=str(config.parent), env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return proc, log

    def start_sink(self):
        port = self.ports.get()
        proc, _out = self.servers.start_smtp_sink(port)
        return proc, port

    def stop_sink(self, proc) -> None:
        self.servers.stop(proc)

    # -- 1. reference ---------------------------------------------------------------------------

    def reference(self, messages: int) -> None:
        sl = self.sl
        path = self.workdir / "digest.lf.eml"
        path.write_bytes(self.message.replace(b"\r\n", b"\n"))
        sink, port = self.start_sink()
        try:
            cmd = [self.servers.bin("smtp-source"), "-4", "-s", "16", "-m", str(messages), "-M", sl.HELO,
                   "-f", sl.SENDER, "-t", "user@example.com", "-N", "-d", "-F", str(path), f"{HOST}:{port}"]
            err_path = self.workdir / f"smtp-source-{port}.err"
            cpu0, host0, snap0 = sl._proc_cpu_seconds(sink.pid), sl._host_cpu_ticks(), cpu_snapshot()
            with open(err_path, "wb") as err:
                t0 = time.perf_counter()
                proc = subprocess.Popen(cmd, env=self.servers._env(), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=err)
                t1, _usage = sl._wait4_with_timeout(proc, 120)
            cpu1, host1, snap1 = sl._proc_cpu_seconds(sink.pid), sl._host_cpu_ticks(), cpu_snapshot()
        finally:
            self.stop_sink(sink)
        seconds = t1 - t0
        others = top_cpu(snap0, snap1, seconds, {sink.pid, proc.pid})
        if proc.returncode != 0:
            print(f"  smtp-source exited {proc.returncode}: {tail(err_path, 300)}", flush=True)
            return
        rate = messages / seconds
        sink_cpu = 100 * (cpu1 - cpu0) / seconds
        busy = 100 * (host1[0] - host0[0]) / max(host1[1] - host0[1], 1)
        self.references.append((rate, sink_cpu, busy))
        print(f"  smtp-source -d -s 16 -> smtp-sink: {messages} msgs of {len(self.message):,} B in {seconds:.2f} s "
              f"= {rate:,.0f} msg/s (smtp-sink CPU {sink_cpu:.0f}%, host busy {busy:.0f}% of {os.cpu_count()} cores; "
              f"other processes: {others})", flush=True)

    @property
    def ref(self) -> float | None:
        return max((r for r, _c, _b in self.references), default=None)

    # -- 2. enqueue and one-process sends --------------------------------------------------------

    def enqueue(self, config: Path, db: str, expected: int) -> None:
        t0 = time.monotonic()
        proc, log = self.digest(config, "send", SLUG, "--enqueue", "--no-fetch", tag=f"enqueue-{db}-{expected}")
        wait4(proc, 600)
        self.children.forget(proc)
        wall = time.monotonic() - t0
        lines = [line for line in bench_lines(log) if "enqueue" in line]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"digest send --enqueue failed (rc {proc.returncode}): {tail(log)}")
        start, end = lines[-1]["enqueue"]
        self.enqueues.append((db, expected, end - start, wall))
        print(f"  enqueue {expected:,} deliveries ({db}): create_issue + commit {end - start:.2f} s "
              f"(whole `digest send --enqueue` process {wall:.1f} s)", flush=True)

    def worker_run(self, config: Path, result: Send, processes: int = 1, stop_after: int = 0,
                   count_sent=None) -> None:
        """`processes` x `digest worker --once` at once against a fresh smtp-sink; fills `result`."""
        sl = self.sl
        sink, port = self.start_sink()
        set_key(config, "port", port)
        try:
            cpu0, host0, snap0 = sl._proc_cpu_seconds(sink.pid), sl._host_cpu_ticks(), cpu_snapshot()
            t0 = time.monotonic()
            runs = [self.digest(config, "worker", "--once", tag=f"worker-{re.sub(r'[^A-Za-z0-9]+', '-', result.label)}-{i}")
                    for i in range(processes)]
            state = {"term": False, "last": 0.0}
            samples: dict[int, list[tuple[float, float]]] = {proc.pid: [] for proc, _log in runs}

            def poll():
                for proc, _log in runs:
                    rss = vm_rss_mb(proc.pid)
                    if rss is not None:
                        samples[proc.pid].append((time.monotonic(), rss))
                if stop_after and not state["term"] and time.monotonic() - state["last"] > 0.5:
                    state["last"] = time.monotonic()
                    if count_sent() >= stop_after:
                        for proc, _log in runs:
                            os.kill(proc.pid, signal.SIGTERM)
                        state["term"] = True

            usages = []
            for proc, _log in runs:
                usages.append(wait4(proc, self.args.send_timeout, poll))
                self.children.forget(proc)
            walls = time.monotonic() - t0
            cpu1, host1, snap1 = sl._proc_cpu_seconds(sink.pid), sl._host_cpu_ticks(), cpu_snapshot()
        finally:
            self.stop_sink(sink)
        infos = []
        for (proc, log), _usage in zip(runs, usages):
            lines = [line for line in bench_lines(log) if "send" in line]
            if lines:  # RSS one second into the send: start-up and the first batches, before any growth
                early = [rss for t, rss in samples[proc.pid] if t >= lines[0]["send"][0] + 1.0]
                if early:
                    result.rss_early_mb.append(early[0])
            if proc.returncode != 0 or not lines:
                result.note = f"worker rc {proc.returncode}: {tail(log, 300)!r}"
                print(f"  {result.label}: FAILED {result.note}", flush=True)
            infos.append(lines)
            hwm = [line["vmhwm_kb"] for line in bench_lines(log) if "vmhwm_kb" in line]
            seen = max((rss for _t, rss in samples[proc.pid]), default=0.0)
            # the child's own VmHWM at exit; if it never got there (killed), the largest VmRSS polled
            result.rss_mb.append(hwm[-1] / 1024 if hwm else seen)
        windows = [(ln["send"][0], ln["send"][1]) for lines in infos for ln in lines]
        result.sent = sum(ln["sent"] for lines in infos for ln in lines)
        result.failed = sum(ln["failed"] for lines in infos for ln in lines)
        errors = [e for lines in infos for ln in lines for e in ln["errors"]]
        if errors:
            result.note = (result.note + f" errors: {errors[0][:120]}").strip()
        if windows:
            result.seconds = max(e for _s, e in windows) - min(s for s, _e in windows)
            for lines in infos:
                own = sum(ln["send"][1] - ln["send"][0] for ln in lines) or 1e-9
                result.cpu_pct.append(100 * sum(ln["cpu"] for ln in lines) / own)
            result.sink_cpu_pct = 100 * (cpu1 - cpu0) / result.seconds
        result.wall = walls
        result.host_busy_pct = 100 * (host1[0] - host0[0]) / max(host1[1] - host0[1], 1)
        result.stopped_early = state["term"]
        result.others = top_cpu(snap0, snap1, walls, {sink.pid} | {proc.pid for proc, _log in runs})
        self.sends.append(result)
        ratio = f"{result.rate / self.ref:.3f}" if self.ref else "n/a"
        print(f"  {result.label}: {result.sent:,} sent, {result.failed} failed in {result.seconds:.2f} s = "
              f"{result.rate:,.0f} msg/s (ratio {ratio}); peak RSS "
              + "/".join(f"{r:.0f}" for r in result.rss_mb) + " MB (1 s into the send: "
              + "/".join(f"{r:.0f}" for r in result.rss_early_mb) + " MB); sender CPU "
              + "/".join(f"{c:.0f}%" for c in result.cpu_pct)
              + f"; smtp-sink CPU {result.sink_cpu_pct or 0:.0f}%; host busy {result.host_busy_pct:.0f}%"
              + f"; process wall {walls:.1f} s" + ("; stopped by SIGTERM" if result.stopped_early else "")
              + f"; other processes over the wall time: {result.others}",
              flush=True)

    def sqlite_case(self, subscribers: int, connections: list[int], stop_after: int = 0) -> list[Send]:
        folder = self.workdir / f"sqlite-{subscribers}"
        folder.mkdir()
        db = folder / "digest.db"
        url = f"sqlite:///{db}"
        config = write_config(folder, url=url, port=25, connections=connections[0], max_items=self.max_items)
        seconds = populate(url, config, subscribers)
        print(f"  {subscribers:,} confirmed subscribers inserted in {seconds:.1f} s (SQLite)", flush=True)
        self.enqueue(config, "SQLite", subscribers)

        def count_sent() -> int:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
                return con.execute("SELECT count(*) FROM deliveries WHERE status = 'sent'").fetchone()[0]

        results = []
        for k, conns in enumerate(connections):
            if k:
                requeue(db)
            set_key(config, "connections", conns)
            label = f"SQLite {subscribers:,}" + (f" (stop at {stop_after:,})" if stop_after else "") + f", {conns} conns"
            result = Send(label, "SQLite", subscribers, conns)
            self.worker_run(config, result, stop_after=stop_after, count_sent=count_sent)
            results.append(result)
        return results

    # -- 3. PostgreSQL -------------------------------------------------------------------------

    def pg_case(self, subscribers: int, connections: int, processes: int) -> Send | None:
        import sqlalchemy as sa

        name = f"digest_bench_{secrets.token_hex(5)}"
        try:
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
        except Exception as exc:  # noqa: BLE001 - reported, the rest of the bench goes on
            print(f"  PostgreSQL skipped: cannot create a database via {PG_ADMIN}: {exc}", flush=True)
            return None
        self.pg_databases.append(name)
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        folder = self.workdir / "postgres"
        folder.mkdir()
        config = write_config(folder, url=url, port=25, connections=connections, max_items=self.max_items)
        seconds = populate(url, config, subscribers)
        print(f"  {subscribers:,} confirmed subscribers inserted in {seconds:.1f} s (PostgreSQL, database {name})",
              flush=True)
        self.enqueue(config, "PostgreSQL", subscribers)
        result = Send(f"PostgreSQL {subscribers:,}, {processes} workers x {connections} conns", "PostgreSQL",
                      subscribers, connections, processes=processes)
        self.worker_run(config, result, processes=processes)
        return result

    def drop_pg(self) -> None:
        if not self.pg_databases:
            return
        import sqlalchemy as sa

        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.pg_databases:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        self.pg_databases = []

    def close(self) -> None:
        self.children.close()
        self.servers.close()
        try:
            self.drop_pg()
        except Exception as exc:  # noqa: BLE001
            print(f"could not drop the bench databases {self.pg_databases}: {exc}", file=sys.stderr)
        if self.args.keep:
            print(f"work files kept in {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def set_key(config: Path, key: str, value: int) -> None:
    """Change one integer setting of the bench config (each key appears once)."""
    text, n = re.subn(rf"(?m)^{key} = \d+$", f"{key} = {value}", config.read_text())
    if n != 1:
        raise RuntimeError(f"bench config: key {key!r} found {n} times")
    config.write_text(text)


def requeue(db: Path) -> None:
    """Put the issue back to 'queued' so the next configuration sends the same deliveries again."""
    with sqlite3.connect(db) as con:
        con.execute("UPDATE deliveries SET status = 'queued', attempts = 0, sent_at = NULL, last_error = NULL, "
                    "lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL")
        con.execute("UPDATE issues SET status = 'sending', finished_at = NULL, paused_reason = NULL")


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------

def table(head: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]

    def line(cells):
        return "| " + " | ".join(c.rjust(w) if i in right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(head), sep] + [line(r) for r in rows])


def summary(b: Bench, million: list[Send], base_for_million: Send | None) -> None:
    ref = b.ref
    print()
    print("## Sends")
    rows = []
    for r in b.sends:
        rows.append([r.label, f"{r.sent:,}", f"{r.seconds:.2f}", f"{r.rate:,.0f}",
                     f"{r.rate / ref:.3f}" if ref else "n/a", "/".join(f"{x:.0f}" for x in r.rss_mb),
                     "/".join(f"{x:.0f}" for x in r.rss_early_mb),
                     "/".join(f"{c:.0f}%" for c in r.cpu_pct), f"{r.sink_cpu_pct or 0:.0f}%",
                     f"{r.host_busy_pct or 0:.0f}%", r.note[:60]])
    print(table(["run", "sent", "send s", "msg/s", "ratio", "peak RSS MB", "RSS 1 s in", "sender CPU", "sink CPU",
                 "host busy", "note"], rows, {1, 2, 3, 4, 5, 6, 7, 8, 9}))
    print()
    print("## Enqueue (store.create_issue INSERT ... SELECT + commit, inside `digest send --enqueue`)")
    print(table(["database", "deliveries", "create_issue + commit s", "whole process s"],
                [[db, f"{n:,}", f"{s:.2f}", f"{w:.1f}"] for db, n, s, w in b.enqueues], {1, 2, 3}))

    print()
    print("## Targets (issue 4)")
    rows = []
    ref_txt = f"{ref:,.0f} msg/s" if ref else "n/a"
    one = [r for r in b.sends if r.db == "SQLite" and r.processes == 1 and not r.stopped_early
           and r.subscribers != 1_000_000]
    if one and ref:
        best = max(one, key=lambda r: r.rate)
        worst_big = [r for r in one if r.subscribers == max(x.subscribers for x in one)]
        rows.append([f"one process >= {T_ONE} of smtp-source ({ref_txt})",
                     f"best {best.rate / ref:.3f} ({best.label}); largest list: "
                     + ", ".join(f"{r.rate / ref:.3f}" for r in worst_big),
                     "met" if best.rate / ref >= T_ONE else "NOT met"])
    pg = [r for r in b.sends if r.db == "PostgreSQL"]
    if pg and ref:
        r = pg[0]
        rows.append([f"two workers on PostgreSQL >= {T_TWO_PG}", f"{r.rate / ref:.3f} ({r.rate:,.0f} msg/s)",
                     "met" if r.rate / ref >= T_TWO_PG else "NOT met"])
    rss = [x for r in b.sends for x in r.rss_mb]
    if rss:
        rows.append([f"peak RSS <= {T_RSS_MB:.0f} MB", f"max {max(rss):.0f} MB over all sending processes",
                     "met" if max(rss) <= T_RSS_MB else "NOT met"])
    if million and base_for_million and base_for_million.rss_mb:
        m = million[0]
        base = base_for_million.rss_mb[0]
        growth = m.rss_mb[0] / base - 1
        rows.append([f"RSS flat: 1,000,000-delivery issue within {T_FLAT:.0%} of {base_for_million.subscribers:,}",
                     f"{m.rss_mb[0]:.0f} MB vs {base:.0f} MB ({growth:+.1%}; {m.sent:,} sent then SIGTERM)",
                     "met" if abs(growth) <= T_FLAT else "NOT met"])
    big = [e for e in b.enqueues if e[1] == 100_000]
    if big:
        rows.append([f"enqueue of 100,000 deliveries < {T_ENQUEUE_S:.0f} s",
                     ", ".join(f"{db} {s:.2f} s" for db, _n, s, _w in big),
                     "met" if all(s < T_ENQUEUE_S for _db, _n, s, _w in big) else "NOT met"])
    print(table(["target", "measured", "verdict"], rows, set()))


def machine() -> str:
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return (f"{platform.node()} {platform.system()} {platform.release()}, {os.cpu_count()} CPUs, {mem} RAM, "
            f"Python {platform.python_version()}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="list sizes on SQLite (default 10000,100000)")
    ap.add_argument("--connections", default="4,8", help="delivery.connections values to try (default 4,8)")
    ap.add_argument("--pg", action=argparse.BooleanOptionalAction, default=True,
                    help="two workers on PostgreSQL at 127.0.0.1:5432 (default on)")
    ap.add_argument("--pg-size", type=int, default=100_000, help="subscribers for the PostgreSQL run")
    ap.add_argument("--pg-connections", type=int, default=0,
                    help="connections per worker on PostgreSQL (default: the best value on SQLite)")
    ap.add_argument("--million", action=argparse.BooleanOptionalAction, default=True,
                    help="memory flatness with a 1,000,000-delivery issue (default on)")
    ap.add_argument("--million-stop", type=int, default=0,
                    help="SIGTERM the 1,000,000 send after this many sent (default: the largest --sizes)")
    ap.add_argument("--reference-messages", type=int, default=20_000, help="smtp-source messages (default 20000)")
    ap.add_argument("--send-timeout", type=float, default=300.0, help="a sender is killed after this many s")
    ap.add_argument("--postfix-dir", default=os.environ.get("SMTP_LIMIT_POSTFIX_DIR", "/tmp/postfix"))
    ap.add_argument("--port-base", type=int, default=25500, help="first port tried for smtp-sink")
    ap.add_argument("--src", type=Path, default=REPO,
                    help="source tree whose digest/ and subscribers/ are measured (default: this repository; "
                         "point it at a scratch copy to measure a change)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (databases, logs) in /tmp")
    a = ap.parse_args(argv)
    sizes = [int(x) for x in a.sizes.split(",") if x.strip()]
    conns = [int(x) for x in a.connections.split(",") if x.strip()]

    a.src = a.src.resolve()
    sys.path.insert(0, str(a.src))  # this process imports digest too (schema, calibration)
    ensure_postfix(a.postfix_dir)
    sl = load_smtp_limit()
    started = time.monotonic()
    print(f"# bench/send.py {datetime.now().astimezone().isoformat(timespec='seconds')}; {machine()}")
    print(f"# argv: {' '.join(argv) or '(defaults)'}; code measured: {a.src}", flush=True)

    def on_term(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    children = Children()
    b = Bench(a, sl, children)
    million: list[Send] = []
    base_for_million = None
    try:
        port = sl.PortAllocator(a.port_base).get()
        b.max_items, rendered, items, b.message = calibrate(b.workdir, port)
        print(f"digest: {items} articles, rendered HTML + text {rendered:,} B; finished message {len(b.message):,} B",
              flush=True)
        print("1. reference", flush=True)
        b.reference(a.reference_messages)
        best_conns = conns[0]
        for size in sizes:
            print(f"2. SQLite, {size:,} subscribers", flush=True)
            results = b.sqlite_case(size, conns)
            best = max(results, key=lambda r: r.rate)
            best_conns = best.connections
            base_for_million = best
        if a.pg:
            print(f"3. PostgreSQL, {a.pg_size:,} subscribers, two workers", flush=True)
            b.pg_case(a.pg_size, a.pg_connections or best_conns, 2)
        if a.million:
            stop = a.million_stop or max(sizes, default=100_000)
            print(f"4. SQLite, 1,000,000 subscribers, stop after {stop:,} sent", flush=True)
            million = b.sqlite_case(1_000_000, [best_conns], stop_after=stop)
        print("5. reference again", flush=True)
        b.reference(a.reference_messages)
        summary(b, million, base_for_million)
    except KeyboardInterrupt:
        print("interrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        b.close()
    refs = ", ".join(f"{r:,.0f} (host busy {busy:.0f}%)" for r, _c, busy in b.references)
    print(f"\nreference runs (msg/s): {refs}; the ratio uses the best. Total wall time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
