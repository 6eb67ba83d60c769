"""The measured runs of bench/send.py: the reference, one sender on SQLite, two workers on PostgreSQL."""


from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from send_procs import Children, bench_lines, cpu_snapshot, sender_hwm_mb, tail, top_cpu, vm_rss_mb, wait4
from send_support import HOST, PG_ADMIN, SECRET, SLUG, dkim_key, populate, set_dkim, write_config

# Runs inside each `digest` subprocess: the real CLI, with timers around the two calls we measure.
BOOTSTRAP = r'''
import atexit, json, sys, time
from sqlalchemy import event
from sqlalchemy.orm import Session
from digest import store
from digest.flows import sending

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

_send = sending.send_existing_issue
def send_existing_issue(*args, **kwargs):
    t0, c0 = time.monotonic(), time.process_time()
    report = _send(*args, **kwargs)
    _say(send=[t0, time.monotonic()], cpu=time.process_time() - c0, sent=report.sent, failed=report.failed,
         skipped=report.skipped, stopped=report.stopped, finished=report.finished,
         errors=report.errors[:3])
    return report
sending.send_existing_issue = send_existing_issue

from digest.cli.main import main
main()
'''


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
    rss_mb: list[float] = field(default_factory=list)   # peak (the command's own VmHWM at exit)
    child_rss_mb: list[float] = field(default_factory=list)  # peak of each sender process it started
    dkim: bool = False
    rss_early_mb: list[float] = field(default_factory=list)  # VmRSS 1 s after the send started
    cpu_pct: list[float] = field(default_factory=list)  # sender process CPU over its send window, % of one core
    sink_cpu_pct: float | None = None
    host_busy_pct: float | None = None
    stopped_early: bool = False
    others: str = ""           # other processes' CPU during the run (PostgreSQL, other people's work)
    case: str = ""             # a run of its own comparison (issue 25), left out of issues 4 and 17's targets
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
        self.env = {**os.environ, "DIGEST_SECRET_KEY": SECRET, "PYTHONPATH": str(args.src),
                     "DIGEST_DKIM_PRIVATE_KEY": dkim_key()}
        self.cases: dict[str, tuple[Path, str]] = {}  # database -> (config, url) of its last (largest) case
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
            senders: dict[int, float] = {}  # sender processes of delivery.processes: pid -> peak VmHWM seen

            def poll():
                for proc, _log in runs:
                    rss = vm_rss_mb(proc.pid)
                    if rss is not None:
                        samples[proc.pid].append((time.monotonic(), rss))
                    for pid, hwm in sender_hwm_mb(proc.pid).items():
                        senders[pid] = max(hwm, senders.get(pid, 0.0))
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
        result.child_rss_mb = list(senders.values())
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
              + "/".join(f"{r:.0f}" for r in result.rss_mb)
              + (" MB, its sender processes " + "/".join(f"{r:.0f}" for r in result.child_rss_mb)
                 if result.child_rss_mb else "") + " MB (1 s into the send: "
              + "/".join(f"{r:.0f}" for r in result.rss_early_mb) + " MB); sender CPU "
              + "/".join(f"{c:.0f}%" for c in result.cpu_pct)
              + f"; smtp-sink CPU {result.sink_cpu_pct or 0:.0f}%; host busy {result.host_busy_pct:.0f}%"
              + f"; process wall {walls:.1f} s" + ("; stopped by SIGTERM" if result.stopped_early else "")
              + f"; other processes over the wall time: {result.others}",
              flush=True)

    def sqlite_case(self, subscribers: int, connections: list[int], stop_after: int = 0, processes: int = 1,
                    dkim: bool = False) -> list[Send]:
        folder = self.workdir / f"sqlite-{subscribers}"
        folder.mkdir()
        db = folder / "digest.db"
        url = f"sqlite:///{db}"
        config = write_config(folder, url=url, port=25, connections=connections[0], max_items=self.max_items,
                              processes=processes)
        set_dkim(config, dkim)
        self.cases["SQLite"] = (config, url)
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
            label = (f"SQLite {subscribers:,}" + (f" (stop at {stop_after:,})" if stop_after else "")
                     + (f", {processes} processes x" if processes > 1 else ",") + f" {conns} conns"
                     + (", DKIM on" if dkim else ""))
            result = Send(label, "SQLite", subscribers, conns, processes=processes, dkim=dkim)
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
        self.cases["PostgreSQL"] = (config, url)
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


