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
5. issue 17, on the largest SQLite list with its best connection count: the
   same issue again with DKIM on (RSA-2048) in one process, then one command
   with `delivery.processes` = every core (`--processes`), DKIM off and on; the
   same two on PostgreSQL; the 1,000,000 issue of 4. runs on all cores with
   DKIM on, so its peak RSS is per sender process;
6. issue 25, readers' choices (`--choices`, default on): the same issue of
   `--choices-size` readers (default 100,000) in a newsletter of 8 sections, on
   two SQLite databases, one where no reader chose anything and one where
   readers are spread over 8 section sets with 10 % plain text and 5 % paused;
   both outboxes checked against the choices, then both sent with the
   connections that were best in 2. (`--choices-rounds N`: alternately, N
   times each, the best of each counts); the ratio of the two rates and the
   peak RSS;
7. a summary table with the targets of issues 4, 17 and 25.

The `digest` processes are the real CLI, started through a few lines of
bootstrap that wrap store.create_issue and flows.sending.send_existing_issue with
timers (printed as `BENCH {json}` lines on stderr), so interpreter start-up and
imports are not counted as sending time; process wall times are shown as well.

smtp-source and smtp-sink come from Debian's postfix package, unpacked (not
installed, nothing started) as ../shared/tools/smtp_limit/smtp_limit.sh does;
this script does that itself when /tmp/postfix is missing, and reuses that
tool's helpers (server start/stop, port search, wait4 with a cap) by importing
smtp_limit.py from beside the repository.

Run:  .venv/bin/python bench/send.py                      # everything, ~10-12 min
      .venv/bin/python bench/send.py --sizes 10000 --no-pg --no-million   # quick, ~1 min
      .venv/bin/python bench/send.py --sizes 100000 --no-pg --no-million --no-dkim --choices-rounds 2  # issue 25
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

from send_report import machine, summary
from send_choices import choices_case
from send_cores import rerun
from send_runs import Bench, Send
from send_procs import Children
from send_support import REPO, calibrate, ensure_postfix, load_smtp_limit


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
    ap.add_argument("--dkim", action=argparse.BooleanOptionalAction, default=True,
                    help="the DKIM-on runs (default on)")
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                    help="delivery.processes of the one-command runs (default: the number of cores)")
    ap.add_argument("--choices", action=argparse.BooleanOptionalAction, default=True,
                    help="issue 25: the same issue with and without readers' choices (8 section sets, 10 %% plain "
                         "text, 5 %% paused) on SQLite (default on)")
    ap.add_argument("--choices-size", type=int, default=100_000, help="readers of the choices run (default 100000)")
    ap.add_argument("--choices-rounds", type=int, default=1,
                    help="send the two issues alternately this many times each; the best of each counts (default 1)")
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
    choices = None
    try:
        port = sl.PortAllocator(a.port_base).get()
        b.max_items, rendered, items, b.message = calibrate(b.workdir, port)
        print(f"digest: {items} articles, rendered HTML + text {rendered:,} B; finished message {len(b.message):,} B",
              flush=True)
        print("1. reference", flush=True)
        b.reference(a.reference_messages)
        best_conns = conns[0]
        best_by_size = {}
        for size in sizes:
            print(f"2. SQLite, {size:,} subscribers", flush=True)
            results = b.sqlite_case(size, conns)
            best = max(results, key=lambda r: r.rate)
            best_conns = best_by_size[size] = best.connections
            base_for_million = best
        if base_for_million:
            print(f"2b. SQLite, {base_for_million.subscribers:,} subscribers again: DKIM on, then "
                  f"{a.processes} processes", flush=True)
            if a.dkim:
                rerun(b, "SQLite", base_for_million, processes=1, dkim=True)
            for dkim in (False, True) if a.dkim else (False,):
                base_for_million = rerun(b, "SQLite", base_for_million, processes=a.processes, dkim=dkim)
        if a.choices:
            choice_conns = best_by_size.get(a.choices_size, best_conns)
            print(f"2c. SQLite, {a.choices_size:,} readers, 8 sections: the same issue without and with readers' "
                  f"choices, {choice_conns} conns", flush=True)
            choices = choices_case(b, a.choices_size, choice_conns, max(a.choices_rounds, 1))
        if a.pg:
            print(f"3. PostgreSQL, {a.pg_size:,} subscribers, two workers, then one command on "
                  f"{a.processes} processes", flush=True)
            pg = b.pg_case(a.pg_size, a.pg_connections or best_conns, 2)
            for dkim in (False, True) if a.dkim and pg else (False,) if pg else ():
                rerun(b, "PostgreSQL", pg, processes=a.processes, dkim=dkim)
        if a.million:
            stop = a.million_stop or max(sizes, default=100_000)
            print(f"4. SQLite, 1,000,000 subscribers, {a.processes} processes, DKIM {'on' if a.dkim else 'off'}, "
                  f"stop after {stop:,} sent", flush=True)
            million = b.sqlite_case(1_000_000, [best_conns], stop_after=stop, processes=a.processes, dkim=a.dkim)
        print("5. reference again", flush=True)
        b.reference(a.reference_messages)
        summary(b, million, base_for_million, choices)
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
