"""Article extraction on the 2,362 outside pages (issue 29): digest against both trafilatura settings, same run.

Data: ../shared/evaldata/outside_extraction (never copied into the repository):
- dragnet.jsonl.gz: 1,372 news and blog pages (2012) with the text people marked (cut at
  the comments marker however it is spelled: see _COMMENTS);
  scored with load_article_extraction's token F1 (4-word shingles, P and R
  averaged over pages, F1 of the averages), as bench/extraction.py does.
- trafilatura-eval.jsonl.gz: 990 pages with snippets that must / must not be in
  the text; P, R, F1 over all snippet counts (trafilatura's own evaluate.py way).
  trafilatura is developed on these pages: its figure there is in-sample.

Per set, and for the Dragnet set per site fold (A/B by a hash of the site: the
page's canonical or most-linked host for Dragnet, the file name's host for the
trafilatura set), so a rule chosen on one fold can be scored on the other.
"Collapsed": a page where digest keeps under 20 % of what people marked (Dragnet:
shingle recall; trafilatura set: `with` snippets found) while trafilatura's
favor_precision keeps over 80 %. Speed: each system's seconds summed over the
same pages in the same worker processes (pages/s on one core). "Pooled, by pages":
each whole set's F1 weighted by its pages (the two sets score differently, so this
is a weighted mean of F1s, not one F1 over pooled counts), with the margin over the
better trafilatura setting on that same line.

Run: .venv/bin/python bench/extraction_outside.py [--jobs 2] [--limit N] [--show-collapsed]
     [--variant NAME=JSON ...]  (extract_paragraphs keyword arguments, scored beside the shipped method)
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import logging
import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import trafilatura

REPO = Path(__file__).resolve().parents[1]
EVALDATA = REPO.parent / "shared" / "evaldata"
DATA = EVALDATA / "outside_extraction"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(EVALDATA))

from digest.gather.extract import extract_paragraphs  # noqa: E402

logging.getLogger("trafilatura").setLevel(logging.ERROR)
_HREF = re.compile(r"""href=["']?https?://([^/"' >:]+)""", re.IGNORECASE)
_CANONICAL = re.compile(r"""<link[^>]+rel=["']?canonical["']?[^>]*href=["']?https?://([^/"' >:]+)""", re.IGNORECASE)
_WORD = re.compile(r"\w+")

BASELINES = {
    "trafilatura defaults": {},
    "trafilatura favor_precision": {"favor_precision": True},
}
VARIANTS: dict[str, dict] = {}
# Dragnet's annotators ended an article's text with "!@#$%^&*() COMMENTS" before the readers' comments; the data's own
# cut looks for that exact string, and eleven pages spell it otherwise ("@#$%^&*() COMMENTS", "!@ $%^&*()  COMMENTS"),
# so their gold ran on into the comments (43,949 words of them on one page). Cut there too.
_COMMENTS = re.compile(r"(?:[!@#$%^&*()]\s?){5,}\s*COMMENTS")


def load(limit: int | None) -> list[dict]:
    pages = []
    for name in ("dragnet", "trafilatura-eval"):
        with gzip.open(DATA / f"{name}.jsonl.gz", "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        pages.extend(rows[:limit] if limit else rows)
    for page in pages:
        page["site"] = site_of(page)
        page["fold"] = "AB"[int(hashlib.sha1(page["site"].encode()).hexdigest(), 16) % 2]
        if page["set"] == "dragnet":
            page["truth"] = _COMMENTS.split(page["truth"], 1)[0]
        if page["set"] == "trafilatura-eval":
            page["with"] = _snippets(page["with"])
            page["without"] = _snippets(page["without"])
    return pages


def _snippets(value) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = ast.literal_eval(value or "[]")
    except (ValueError, SyntaxError):
        return [value] if value else []
    return [str(v) for v in parsed] if isinstance(parsed, list | tuple) else [str(parsed)]


def site_of(page: dict) -> str:
    if page["set"] == "trafilatura-eval":
        name = page["id"].split("/", 1)[1]
        return re.split(r"[-_]", name.removesuffix(".html"), maxsplit=1)[0].removeprefix("www.").lower()
    canonical = _CANONICAL.search(page["html"])
    if canonical:
        return canonical.group(1).lower().removeprefix("www.")
    hosts = Counter(h.lower().removeprefix("www.") for h in _HREF.findall(page["html"]))
    return hosts.most_common(1)[0][0] if hosts else page["id"]


def url_of(page: dict) -> str | None:
    url = page.get("url")
    return url if url and urlparse(url).scheme in ("http", "https") else None


def run_page(page: dict) -> dict:
    """Every system on one page, each timed; texts out."""
    out, seconds = {}, {}
    html, url = page["html"], url_of(page)
    for name, options in BASELINES.items():
        started = time.perf_counter()
        try:
            text = trafilatura.extract(html, url=url, **options) or ""
        except Exception:  # noqa: BLE001  (a baseline's crash scores as an empty page, as ours would)
            text = ""
        seconds[name] = time.perf_counter() - started
        out[name] = text
    for name, options in {"digest (shipped)": {}, **VARIANTS}.items():
        started = time.perf_counter()
        out[name] = "\n\n".join(extract_paragraphs(html, url, **options))
        seconds[name] = time.perf_counter() - started
    return {"id": page["id"], "texts": out, "seconds": seconds}


def _init(variants: dict) -> None:
    VARIANTS.update(variants)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)


def snippet_counts(page: dict, text: str) -> tuple[int, int, int, int]:
    """(true positives, false negatives, false positives, true negatives) of one page's snippets."""
    flat = " ".join(text.split())
    found_with = sum(" ".join(s.split()) in flat for s in page["with"])
    found_without = sum(" ".join(s.split()) in flat for s in page["without"])
    return found_with, len(page["with"]) - found_with, found_without, len(page["without"]) - found_without


def token_scores(bench, truth: str, text: str) -> tuple[float, float]:
    tp, fp, fn = bench.page_counts(truth, text)
    return bench._prec(tp, fp, fn), bench._rec(tp, fp, fn)


def kept_share(bench, page: dict, text: str) -> float:
    if page["set"] == "dragnet":
        return token_scores(bench, page["truth"], text)[1]
    tp, fn, _fp, _tn = snippet_counts(page, text)
    return tp / (tp + fn) if tp + fn else 1.0


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def report(pages: list[dict], results: dict, systems: list[str], show_collapsed: bool) -> None:
    import load_article_extraction as bench  # noqa: PLC0415  (found only at run time, outside the repo)

    dragnet = [p for p in pages if p["set"] == "dragnet"]
    traf = [p for p in pages if p["set"] == "trafilatura-eval"]
    sets = [("dragnet, all", dragnet), ("dragnet, fold A", [p for p in dragnet if p["fold"] == "A"]),
            ("dragnet, fold B", [p for p in dragnet if p["fold"] == "B"])]
    print(f"{'set':22s} {'system':34s} {'P':>6s} {'R':>6s} {'F1':>6s} {'pages':>5s}")
    whole: dict[str, list[tuple[float, int]]] = {system: [] for system in systems}  # (F1, pages) of each whole set
    for label, subset in sets:
        for system in systems:
            scores = [token_scores(bench, p["truth"], results[p["id"]]["texts"][system]) for p in subset]
            if not scores:
                continue
            precision = sum(s[0] for s in scores) / len(scores)
            recall = sum(s[1] for s in scores) / len(scores)
            print(f"{label:22s} {system:34s} {precision:6.3f} {recall:6.3f} {f1(precision, recall):6.3f} "
                  f"{len(scores):5d}")
            if subset is dragnet:
                whole[system].append((f1(precision, recall), len(scores)))
    for label, subset in (("trafilatura-eval", traf),
                          ("  (English pages)", [p for p in traf if p.get("lang") == "en"])):
        for system in systems:
            counts = [snippet_counts(p, results[p["id"]]["texts"][system]) for p in subset]
            if not counts:
                continue
            tp, fn, fp, _tn = (sum(c[i] for c in counts) for i in range(4))
            precision, recall = tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0
            print(f"{label:22s} {system:34s} {precision:6.3f} {recall:6.3f} {f1(precision, recall):6.3f} "
                  f"{len(counts):5d}")
            if subset is traf:
                whole[system].append((f1(precision, recall), len(counts)))
    pooled = {system: sum(f * n for f, n in parts) / max(sum(n for _, n in parts), 1)
              for system, parts in whole.items() if parts}
    best = max((pooled[s] for s in pooled if s in BASELINES), default=None)
    for system, value in pooled.items():
        margin = f"  ({value - best:+.3f} over the better trafilatura setting)" if best is not None and \
            system not in BASELINES else ""
        print(f"{'pooled, by pages':22s} {system:34s} {'':6s} {'':6s} {value:6.3f} "
              f"{sum(n for _, n in whole[system]):5d}{margin}")
    print("collapsed: digest keeps < 20 % of the marked text where trafilatura favor_precision keeps > 80 %")
    reference = "trafilatura favor_precision"
    for system in systems:
        if system in BASELINES:
            continue
        collapsed = [p for p in pages if kept_share(bench, p, results[p["id"]]["texts"][reference]) > 0.8
                     and kept_share(bench, p, results[p["id"]]["texts"][system]) < 0.2]
        by_set = Counter(p["set"] for p in collapsed)
        print(f"  {system:34s} {len(collapsed):3d} ({', '.join(f'{k} {v}' for k, v in sorted(by_set.items()))})")
        if show_collapsed:
            for p in collapsed:
                text = results[p["id"]]["texts"][system]
                print(f"    {p['id']} [{p['site']}] {len(_WORD.findall(text))} words: {text[:100]!r}")
    print("speed (pages/s on one core, the same pages in the same processes)")
    total = {s: sum(results[p["id"]]["seconds"][s] for p in pages) for s in systems}
    for system in systems:
        ratio = total[reference] / total[system] if total[system] else 0.0
        print(f"  {system:34s} {len(pages) / total[system]:6.1f} pages/s  ({ratio:.2f} x {reference})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, help="the first N pages of each set")
    parser.add_argument("--show-collapsed", action="store_true")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=JSON")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"no data at {DATA}: this bench needs ../shared/evaldata beside the repository")
    variants = {name: json.loads(options) for name, _, options in (v.partition("=") for v in args.variant)}
    pages = load(args.limit)
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, initializer=_init, initargs=(variants,)) as pool:
        results = {r["id"]: r for r in pool.map(run_page, pages, chunksize=8)}
    print(f"trafilatura {trafilatura.__version__}; {len(pages)} pages "
          f"({sum(p['set'] == 'dragnet' for p in pages)} Dragnet, {sum(p['set'] != 'dragnet' for p in pages)} "
          f"trafilatura-eval), {len({p['site'] for p in pages})} sites; {time.perf_counter() - started:.0f} s "
          f"with {args.jobs} workers")
    report(pages, results, [*BASELINES, "digest (shipped)", *variants], args.show_collapsed)


if __name__ == "__main__":
    main()
