"""bench/send.py's run for issue 25: one issue sent with and without readers' choices, in the same run.

Two SQLite databases made alike: the same config (a newsletter of eight
sections, each taking the feed category of its name), the same articles (the
newest fill every section in turn), the same number of confirmed readers. In
one, no reader has chosen anything; in the other, readers are spread over
eight section sets (every section, and seven real subsets of one to seven
sections), 10 % take plain text and 5 % are paused for two weeks. Each is
enqueued by `digest send --enqueue` (audience.fill_outbox applies the choices:
no row for a paused reader, one rendering per distinct section set), its
outbox checked against the readers' choices, then sent by `digest worker
--once` with the same connections; with --choices-rounds N the two alternate N
times (deliveries put back to queued) and each side keeps its best rate.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta

from send_runs import Bench, Send, requeue, set_key
from send_support import NOW, populate, write_config

# The newsletter's sections; article k carries the category SECTIONS[k % 8].
SECTIONS = ("City", "Transport", "Schools", "Health", "Energy", "Housing", "Culture", "Sport")
# The readers' eight section sets: None is every section (no choice); the others name one to seven.
SECTION_SETS: tuple[tuple[str, ...] | None, ...] = (
    None,
    ("Culture",),
    ("City", "Transport"),
    ("Schools", "Health", "Housing"),
    ("City", "Energy", "Housing", "Sport"),
    ("Transport", "Schools", "Health", "Culture", "Sport"),
    ("City", "Transport", "Schools", "Health", "Energy", "Housing"),
    ("Transport", "Schools", "Health", "Energy", "Housing", "Culture", "Sport"),
)
PLAIN_SHARE = 0.10
PAUSED_SHARE = 0.05
SEED = 25


@dataclass
class Readers:
    """Who chose what, by subscriber id (1..n): index into SECTION_SETS, plain text, paused."""

    sets: list[int]
    plain: set[int]
    paused: set[int]

    @classmethod
    def spread(cls, n: int) -> Readers:
        rnd = random.Random(SEED)
        ids = range(1, n + 1)
        return cls([rnd.randrange(len(SECTION_SETS)) for _ in ids], set(rnd.sample(ids, round(n * PLAIN_SHARE))),
                   set(rnd.sample(ids, round(n * PAUSED_SHARE))))

    def columns(self, sections_value):
        """populate's `choices`: Subscription columns of reader i (sections as the preferences page stores them)."""
        stored = [None if s is None else sections_value(s) for s in SECTION_SETS]
        until = NOW + timedelta(weeks=2)

        def of(i: int) -> dict:
            return {"sections": stored[self.sets[i - 1]], "plain_text": i in self.plain,
                    "paused_until": until if i in self.paused else None}
        return of


@dataclass
class Outbox:
    """What `digest send --enqueue` made of one database, read back with sqlite3."""

    deliveries: int = 0
    plain_text: int = 0
    variants: int = 0              # issue_variants rows
    variant_ids: int = 0           # distinct variant_id among deliveries (None, the whole issue, not counted)
    paused: int = 0                # issues.paused_readers
    held: str = ""                 # issues.held_readers (JSON by reason)
    carried: tuple[str, ...] = ()  # the issue's sections, in issue order
    bytes_per_delivery: float = 0.0  # rendered HTML + text a reader gets (text alone for plain text), mean
    problems: list[str] = field(default_factory=list)


@dataclass
class ChoicesResult:
    subscribers: int
    connections: int
    plain: list[Send] = field(default_factory=list)
    chosen: list[Send] = field(default_factory=list)
    outbox_plain: Outbox = field(default_factory=Outbox)
    outbox_chosen: Outbox = field(default_factory=Outbox)
    expected: int = 0          # deliveries the readers' choices call for
    no_section: int = 0        # readers (not paused) with none of their sections in the issue

    @property
    def best_plain(self) -> Send:
        return max(self.plain, key=lambda r: r.rate)

    @property
    def best_chosen(self) -> Send:
        return max(self.chosen, key=lambda r: r.rate)

    @property
    def ratio(self) -> float:
        return self.best_chosen.rate / self.best_plain.rate if self.best_plain.rate else 0.0

    @staticmethod
    def cpu_us(runs: list[Send]) -> str:
        """The sender's CPU a message, each round (microseconds): less swayed by other work than msg/s."""
        return "/".join(f"{r.cpu_pct[0] / 100 * r.seconds / r.sent * 1e6:.0f}" for r in runs if r.cpu_pct and r.sent)

    @property
    def peak_rss(self) -> float:
        return max(x for r in self.chosen for x in r.rss_mb + r.child_rss_mb)


def read_outbox(db, readers: Readers | None) -> Outbox:
    """The outbox of the database's one issue, and each delivery checked against its reader's choice."""
    from subscribers.preferences import read_sections, sections_value

    out = Outbox()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        out.deliveries, out.plain_text, out.variant_ids = con.execute(
            "SELECT count(*), coalesce(sum(plain_text), 0), count(DISTINCT variant_id) FROM deliveries").fetchone()
        out.variants = con.execute("SELECT count(*) FROM issue_variants").fetchone()[0]
        out.paused, out.held = con.execute("SELECT paused_readers, held_readers FROM issues").fetchone()
        out.carried = tuple(title for (title,) in con.execute(
            "SELECT section FROM issue_articles WHERE included GROUP BY section ORDER BY min(position)"))
        total = con.execute(
            "SELECT sum(CASE WHEN d.plain_text THEN 0 ELSE length(CAST(coalesce(v.html, i.html) AS BLOB)) END"
            " + length(CAST(coalesce(v.text, i.text) AS BLOB)))"
            " FROM deliveries d JOIN issues i ON i.id = d.issue_id"
            " LEFT JOIN issue_variants v ON v.id = d.variant_id").fetchone()[0] or 0
        out.bytes_per_delivery = total / max(out.deliveries, 1)
        groups = con.execute(
            "SELECT s.sections, v.sections, count(*) FROM deliveries d"
            " JOIN subscriptions s ON s.subscriber_id = d.subscriber_id"
            " LEFT JOIN issue_variants v ON v.id = d.variant_id GROUP BY 1, 2").fetchall()
        wrong_text, paused_rows = con.execute(
            "SELECT coalesce(sum(d.plain_text != s.plain_text), 0),"
            " coalesce(sum(s.paused_until IS NOT NULL), 0) FROM deliveries d"
            " JOIN subscriptions s ON s.subscriber_id = d.subscriber_id").fetchone()
    for stored, variant, n in groups:  # each reader got the rendering of the sections they chose that it carries
        chosen = read_sections(stored)
        want = None if chosen is None or set(out.carried) <= chosen else \
            sections_value([t for t in out.carried if t in chosen])
        if variant != want:
            out.problems.append(f"{n} readers choosing {stored} got rendering {variant}, not {want}")
    if wrong_text:
        out.problems.append(f"{wrong_text} deliveries' plain_text differs from their reader's")
    if paused_rows:
        out.problems.append(f"{paused_rows} deliveries for paused readers")
    if readers is None and (out.variants or out.plain_text or out.paused):
        out.problems.append("the issue without choices has variants, plain text or paused readers")
    return out


def expectation(readers: Readers, carried: tuple[str, ...]) -> tuple[int, int, int, int]:
    """(deliveries, plain-text deliveries, readers with none of their sections carried, real variants) the
    readers' choices call for, given the sections the issue carries."""
    deliveries = plain = none = 0
    kept_sets = set()
    for i, k in enumerate(readers.sets, start=1):
        if i in readers.paused:
            continue
        chosen = SECTION_SETS[k]
        kept = carried if chosen is None else tuple(t for t in carried if t in chosen)
        if not kept:
            none += 1
            continue
        deliveries += 1
        plain += i in readers.plain
        if kept != carried:
            kept_sets.add(kept)
    return deliveries, plain, none, len(kept_sets)


def choices_case(b: Bench, subscribers: int, connections: int, rounds: int) -> ChoicesResult | None:
    from subscribers.preferences import sections_value

    # Eight sections need at least eight items: the calibrated size, or eight if that is fewer.
    max_items = max(b.max_items, len(SECTIONS))
    if max_items != b.max_items:
        print(f"  max_items {b.max_items} < {len(SECTIONS)} sections: both issues carry {max_items} items",
              flush=True)
    readers = Readers.spread(subscribers)
    result = ChoicesResult(subscribers, connections)
    cases = []
    for kind, choices in (("plain", None), ("chosen", readers)):
        folder = b.workdir / f"sqlite-{kind}-{subscribers}"
        folder.mkdir()
        db = folder / "digest.db"
        url = f"sqlite:///{db}"
        config = write_config(folder, url=url, port=25, connections=connections, max_items=max_items,
                              sections=SECTIONS)
        seconds = populate(url, config, subscribers, sections=SECTIONS,
                           choices=choices.columns(sections_value) if choices else None)
        what = ("no reader choices" if choices is None else
                f"{len(SECTION_SETS)} section sets, {len(readers.plain):,} plain text, {len(readers.paused):,} paused")
        print(f"  {subscribers:,} confirmed subscribers inserted in {seconds:.1f} s (SQLite, {len(SECTIONS)} "
              f"sections; {what})", flush=True)
        # deliveries to expect if the issue carries every section (checked against the issue's own below)
        expected = subscribers if choices is None else expectation(readers, SECTIONS)[0]
        b.enqueue(config, "SQLite, 8 sections" + (", readers' choices" if choices else ""), expected)
        outbox = read_outbox(db, choices)
        if choices is None:
            result.outbox_plain = outbox
            if outbox.deliveries != subscribers:
                outbox.problems.append(f"{outbox.deliveries:,} deliveries, not {subscribers:,}")
        else:
            result.outbox_chosen = outbox
            deliveries, plain, none, variants = expectation(readers, outbox.carried)
            result.expected, result.no_section = deliveries, none
            for name, got, want in (("deliveries", outbox.deliveries, deliveries),
                                    ("plain-text deliveries", outbox.plain_text, plain),
                                    ("renderings", outbox.variants, variants),
                                    ("paused readers counted", outbox.paused, len(readers.paused))):
                if got != want:
                    outbox.problems.append(f"{name}: {got:,}, expected {want:,}")
        print(f"  outbox: {outbox.deliveries:,} deliveries ({outbox.plain_text:,} plain text), "
              f"{outbox.variants} renderings besides the whole issue ({outbox.variant_ids} used), "
              f"{outbox.paused:,} paused, held {outbox.held or '{}'}; the issue's {len(outbox.carried)} sections: "
              f"{', '.join(outbox.carried)}; {outbox.bytes_per_delivery:,.0f} B rendered per delivery; "
              + ("checked: " + "; ".join(outbox.problems) if outbox.problems else "checked against the choices: ok"),
              flush=True)
        cases.append((kind, db, config))
    if len(result.outbox_plain.carried) != len(SECTIONS):
        print(f"  note: the issue carries {len(result.outbox_plain.carried)} of {len(SECTIONS)} sections", flush=True)
    for n in range(rounds):
        for kind, db, config in cases:
            if n:
                requeue(db)
            set_key(config, "connections", connections)
            label = (f"SQLite {subscribers:,}, 8 sections, "
                     + ("no reader choices" if kind == "plain" else "readers' choices")
                     + f", {connections} conns" + (f" (round {n + 1})" if rounds > 1 else ""))
            run = Send(label, "SQLite", subscribers, connections, case=f"issue 25 {kind}")
            b.worker_run(config, run)
            (result.plain if kind == "plain" else result.chosen).append(run)
            want = result.outbox_plain.deliveries if kind == "plain" else result.outbox_chosen.deliveries
            if run.sent != want:
                run.note = (run.note + f" sent {run.sent:,} of {want:,}").strip()
    if not all(r.rate for r in result.plain + result.chosen):
        return None
    print(f"  readers' choices / none: {result.best_chosen.rate:,.0f} / {result.best_plain.rate:,.0f} msg/s = "
          f"{result.ratio:.3f} (best of {rounds}); sender CPU a message {result.cpu_us(result.chosen)} vs "
          f"{result.cpu_us(result.plain)} us; peak RSS with choices {result.peak_rss:.0f} MB", flush=True)
    return result


def issue25(c: ChoicesResult | None, ratio_goal: float, rss_goal: float) -> list[list[str]]:
    """The summary rows of issue 25's goals."""
    if c is None:
        return []
    o, p = c.outbox_chosen, c.outbox_plain
    problems = o.problems + p.problems
    held = f"; held {o.held}" if o.held and o.held != "{}" else ""
    return [
        [f"readers' choices / the same issue without, msg/s >= {ratio_goal}",
         f"{c.ratio:.3f} ({c.best_chosen.rate:,.0f} vs {c.best_plain.rate:,.0f} msg/s, {c.connections} conns, "
         f"best of {len(c.chosen)}; sender CPU a message {c.cpu_us(c.chosen)} vs {c.cpu_us(c.plain)} us; "
         f"{o.bytes_per_delivery:,.0f} vs {p.bytes_per_delivery:,.0f} B rendered a delivery)",
         "met" if c.ratio >= ratio_goal else "NOT met"],
        [f"peak RSS with readers' choices <= {rss_goal:.0f} MB",
         f"{c.peak_rss:.0f} MB (without: {max(x for r in c.plain for x in r.rss_mb):.0f} MB)",
         "met" if c.peak_rss <= rss_goal else "NOT met"],
        [f"outbox: {c.subscribers:,} readers, {len(SECTION_SETS)} section sets, 10 % plain text, 5 % paused",
         f"{o.deliveries:,} deliveries (expected {c.expected:,}: {c.subscribers - o.paused:,} not paused, "
         f"{c.no_section:,} without a section in the issue), {o.plain_text:,} plain text "
         f"({o.plain_text / max(o.deliveries, 1):.1%}), {o.paused:,} paused, {o.variants} renderings{held}",
         "checked" if not problems else "WRONG: " + "; ".join(problems)[:200]],
    ]
