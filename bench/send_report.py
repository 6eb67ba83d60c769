"""The summary tables of bench/send.py, with the targets of issue 4."""

from __future__ import annotations

import os
import platform
from typing import TYPE_CHECKING

from send_choices import issue25
from send_support import T_ALL_CORES, T_CHOICES, T_DKIM, T_ENQUEUE_S, T_FLAT, T_ONE, T_RSS_MB, T_TWO_PG

if TYPE_CHECKING:
    from send_choices import ChoicesResult
    from send_runs import Bench, Send


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


def summary(b: Bench, million: list[Send], base_for_million: Send | None, choices: ChoicesResult | None = None
            ) -> None:
    ref = b.ref
    print()
    print("## Sends")
    rows = []
    for r in b.sends:
        rows.append([r.label, f"{r.sent:,}", f"{r.seconds:.2f}", f"{r.rate:,.0f}",
                     f"{r.rate / ref:.3f}" if ref else "n/a", "/".join(f"{x:.0f}" for x in r.rss_mb)
                     + (" + " + "/".join(f"{x:.0f}" for x in r.child_rss_mb) if r.child_rss_mb else ""),
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
           and r.subscribers != 1_000_000 and not r.dkim and not r.case]
    if one and ref:
        best = max(one, key=lambda r: r.rate)
        worst_big = [r for r in one if r.subscribers == max(x.subscribers for x in one)]
        rows.append([f"one process >= {T_ONE} of smtp-source ({ref_txt})",
                     f"best {best.rate / ref:.3f} ({best.label}); largest list: "
                     + ", ".join(f"{r.rate / ref:.3f}" for r in worst_big),
                     "met" if best.rate / ref >= T_ONE else "NOT met"])
    pg = [r for r in b.sends if r.db == "PostgreSQL" and r.processes == 2 and len(r.rss_mb) == 2]
    if pg and ref:
        r = pg[0]
        rows.append([f"two workers on PostgreSQL >= {T_TWO_PG}", f"{r.rate / ref:.3f} ({r.rate:,.0f} msg/s)",
                     "met" if r.rate / ref >= T_TWO_PG else "NOT met"])
    rss = [x for r in b.sends for x in r.rss_mb + r.child_rss_mb]
    if rss:
        rows.append([f"peak RSS <= {T_RSS_MB:.0f} MB", f"max {max(rss):.0f} MB over all sending processes",
                     "met" if max(rss) <= T_RSS_MB else "NOT met"])
    if million and base_for_million and base_for_million.rss_mb:
        m = million[0]
        base = max(base_for_million.rss_mb + base_for_million.child_rss_mb)
        peak = max(m.rss_mb + m.child_rss_mb)
        growth = peak / base - 1
        rows.append([f"RSS flat: 1,000,000-delivery issue within {T_FLAT:.0%} of {base_for_million.subscribers:,}",
                     f"largest process {peak:.0f} MB vs {base:.0f} MB ({growth:+.1%}; {m.sent:,} sent then SIGTERM)",
                     "met" if abs(growth) <= T_FLAT else "NOT met"])
    big = [e for e in b.enqueues if e[1] == 100_000]
    if big:
        rows.append([f"enqueue of 100,000 deliveries < {T_ENQUEUE_S:.0f} s",
                     ", ".join(f"{db} {s:.2f} s" for db, _n, s, _w in big),
                     "met" if all(s < T_ENQUEUE_S for _db, _n, s, _w in big) else "NOT met"])
    print(table(["target", "measured", "verdict"], rows, set()))
    print()
    print("## Targets (issue 17)")
    print(table(["target", "measured", "verdict"], issue17(b, million), set()))
    if choices is not None:
        print()
        print("## Targets (issue 25: readers' choices, the same issue in the same run)")
        print(table(["target", "measured", "verdict"], issue25(choices, T_CHOICES, T_RSS_MB), set()))


def issue17(b: Bench, million: list[Send]) -> list[list[str]]:
    ref, rows = b.ref, []
    single = {(r.db, r.dkim): r for r in b.sends if r.processes == 1 and len(r.rss_mb) == 1 and not r.stopped_early
              and r.subscribers != 1_000_000 and not r.case}
    on, off = single.get(("SQLite", True)), None
    if on:
        off = max((r for (db, dkim), r in single.items() if db == "SQLite" and not dkim
                   and r.subscribers == on.subscribers and r.connections == on.connections), key=lambda r: r.rate,
                  default=None)
    if on and off:
        ratio = on.rate / off.rate
        rows.append([f"DKIM on / DKIM off, one process >= {T_DKIM}",
                     f"{ratio:.3f} ({on.rate:,.0f} vs {off.rate:,.0f} msg/s, {on.label})",
                     "met" if ratio >= T_DKIM else "NOT met"])
    cores = [r for r in b.sends if r.processes > 1 and r.dkim and not r.stopped_early and len(r.rss_mb) == 1]
    if cores and ref:
        best = max(cores, key=lambda r: r.rate)
        rows.append([f"one command, all cores, DKIM on, vs smtp-source >= {T_ALL_CORES}",
                     ", ".join(f"{r.db} {r.rate / ref:.3f} ({r.rate:,.0f} msg/s)" for r in cores),
                     "met" if best.rate / ref >= T_ALL_CORES else "NOT met"])
    if million:
        m = million[0]
        every = m.rss_mb + m.child_rss_mb
        rows.append([f"peak RSS per process, 1,000,000-delivery issue <= {T_RSS_MB:.0f} MB",
                     f"command {'/'.join(f'{x:.0f}' for x in m.rss_mb)} MB, senders "
                     f"{'/'.join(f'{x:.0f}' for x in m.child_rss_mb) or '-'} MB ({m.label})",
                     "met" if every and max(every) <= T_RSS_MB else "NOT met"])
    return rows


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


