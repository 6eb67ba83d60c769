"""How `digest gather` holds up against hostile feed servers: wall time, peak memory, and how it ends.

Starts tests/hostile_http.py's HostileServer on 127.0.0.1 and, for each case,
writes a throwaway config.toml (one newsletter whose sources are that case's
hostile URLs, a fresh SQLite file, production defaults for [gather] except
that article pages are never fetched) and runs the real command

    .venv/bin/digest --config CONFIG gather

in its own process, under a hard outer timeout (the child's whole process
group is killed when it runs out). Per case it prints: the exit status (or
"killed@timeout"), wall seconds, the child's peak RSS in MB (ru_maxrss from
os.wait4 on that very child, so each case is measured alone), how many
requests the server saw, how many articles ended up stored, and the last line
the command wrote to stderr.

What a sound gatherer should show: every case ends by itself well within
the timeout (the fetcher's own deadline), with a clear error line for the
hostile sources, a peak RSS near the control case's, and "ok-feed" stored.
A case killed at the timeout means a fetch that never gives up; a peak of
hundreds of MB means a body decoded or parsed without a bound.

Cases: one per mode (drip-headers, empty-gzip, endless, gzip-bomb,
many-entries, slow-body, ok-feed), "heavy" (gzip-bomb, many-entries and
endless at once, with the ok-feed control, in one gather) and "everything"
(every mode at once). In the multi-source cases per_host_concurrency is
raised to the number of sources, since all of them share the host 127.0.0.1
here and the point is to have them in flight together.

Only 127.0.0.1 is ever contacted: the sources are the local server, article
pages are off (max_pages_per_source = 0), and proxy variables are removed
from the child's environment.

Run: .venv/bin/python bench/hostile.py [--cases gzip-bomb,heavy] [--timeout 120] [--list]
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from hostile_http import MODES, HostileServer  # noqa: E402

CASES: dict[str, tuple[str, ...]] = {
    **{mode: (mode,) for mode in MODES},
    "heavy": ("gzip-bomb", "many-entries", "endless", "ok-feed"),
    "everything": MODES,
}
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@dataclass
class Outcome:
    case: str
    status: str
    wall: float
    peak_mb: float
    requests: int
    stored: str
    last_stderr: str


def digest_command() -> list[str]:
    """The installed console script when there is one, so the bench runs exactly what users run."""
    script = REPO / ".venv" / "bin" / "digest"
    return [str(script)] if script.exists() else [sys.executable, "-m", "digest"]


def write_config(folder: Path, urls: list[str]) -> Path:
    """A minimal config with one newsletter whose sources are `urls` (all on the hostile server)."""
    per_host = f"per_host_concurrency = {max(len(urls), 8)}"
    # Article pages only where the case is about them (its feed of teasers, on the source's own origin).
    pages = 20 if any(url.endswith("/heavy-pages") for url in urls) else 0
    sources = "".join(f"""
        [[newsletters.sources]]
        name = "Source {n} ({url.rsplit('/', 1)[-1]})"
        url = "{url}"
        """ for n, url in enumerate(urls, 1))
    text = textwrap.dedent(f"""\
        [site]
        name = "Hostile Bench"
        base_url = "http://127.0.0.1:8000"
        postal_address = "1 Bench Road"
        unsubscribe_mailbox = "unsubscribe@bench.example.org"

        [storage]
        url = "sqlite:///digest.db"

        [delivery]
        transport = "file"
        outbox_dir = "outbox"

        [gather]
        max_pages_per_source = {pages}
        {per_host}

        [[newsletters]]
        slug = "bench"
        title = "Hostile Bench"
        from_address = "bench@bench.example.org"
        """) + textwrap.dedent(sources)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def child_environment() -> dict[str, str]:
    """os.environ without proxies or a config override, so the child goes straight to 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES and k != "DIGEST_CONFIG"}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def run_gather(config: Path, timeout: float) -> tuple[str, float, float, str]:
    """Run `digest gather`; returns (status, wall seconds, peak RSS MB, last stderr line).

    os.wait4 on the child's pid gives that child's own ru_maxrss, even when
    we had to kill it; RUSAGE_CHILDREN would be the maximum over every case.
    """
    stderr_path = config.parent / "stderr.txt"
    with open(stderr_path, "wb") as stderr, open(config.parent / "stdout.txt", "wb") as stdout:
        started = time.monotonic()
        proc = subprocess.Popen([*digest_command(), "--config", str(config), "gather"], cwd=config.parent,
                                stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                env=child_environment(), start_new_session=True)
        status, rusage, killed = reap(proc, started + timeout)
        wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped by wait4: tell Popen so it never waits again
    verdict = "killed@timeout" if killed else (f"exit {code}" if code >= 0 else f"signal {-code}")
    return verdict, wall, rusage.ru_maxrss / 1024, last_line(stderr_path)


def reap(proc: subprocess.Popen, deadline: float):
    """Wait for the child until `deadline`, then kill its whole process group; (status, rusage, killed)."""
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return status, rusage, False
        if time.monotonic() >= deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, rusage = os.wait4(proc.pid, 0)
            return status, rusage, True
        time.sleep(0.05)


def last_line(path: Path) -> str:
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return (lines[-1] if lines else "")[:200]


def stored_articles(folder: Path) -> str:
    """Rows in the articles table of the case's SQLite file ("-" if there is none)."""
    database = folder / "digest.db"
    if not database.exists():
        return "-"
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    except sqlite3.Error:
        return "-"
    try:
        return str(connection.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.Error:
        return "-"
    finally:
        connection.close()


def run_case(case: str, server: HostileServer, timeout: float) -> Outcome:
    with tempfile.TemporaryDirectory(prefix=f"hostile-{case}-") as tmp:
        folder = Path(tmp)
        config = write_config(folder, [server.url(mode) for mode in CASES[case]])
        before = len(server.requests)
        status, wall, peak, last = run_gather(config, timeout)
        return Outcome(case, status, wall, peak, len(server.requests) - before, stored_articles(folder), last)


def print_outcome(outcome: Outcome) -> None:
    print(f"{outcome.case:<13} {outcome.status:<15} {outcome.wall:7.1f} {outcome.peak_mb:8.0f} "
          f"{outcome.requests:5d} {outcome.stored:>6}  {outcome.last_stderr}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated cases to run (default: all): {', '.join(CASES)}")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds before the gather process is killed (default 120)")
    parser.add_argument("--list", action="store_true", help="list the cases and the modes each uses, then exit")
    args = parser.parse_args(argv)
    args.cases = [case.strip() for case in args.cases.split(",") if case.strip()]
    unknown = [case for case in args.cases if case not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for case, modes in CASES.items():
            print(f"{case:<13} {' '.join(modes)}")
        return 0
    with HostileServer() as server:
        server.prebuild()  # the 2 GB bomb and the 150,000-item feed are built before any clock starts
        print(f"# hostile server {server.base_url}; {' '.join(digest_command())} gather; "
              f"outer timeout {args.timeout:g} s", flush=True)
        print(f"{'case':<13} {'status':<15} {'wall_s':>7} {'peak_MB':>8} {'reqs':>5} {'stored':>6}  last stderr line")
        for case in args.cases:
            print_outcome(run_case(case, server, args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
