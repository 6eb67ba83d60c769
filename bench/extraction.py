"""Article-extraction quality and speed: trafilatura alone vs digest.gather.extract.extract_text.

Uses the article-extraction benchmark (Zyte/scrapinghub) kept outside the repo in
../shared/evaldata/article_extraction, with that folder's own loader and scoring
(4-word shingles; precision and recall averaged over pages; F1 of the averages).
Nothing from it is copied here. Every system gets the same HTML and page URL.

Three kinds of figure, kept apart because they mean different things:
1. dev-all: every dev page, scored with the shipped settings. The extractor was
   written and tuned looking at these pages, so this is an in-sample figure.
2. cross-validated: the pages are split into two fixed folds by a hash of their
   site (so no site sits in both); each fold is scored with the settings that
   win on the other fold alone, out of a fixed menu (the old single reading,
   and the two-reading combination with each short-paragraph threshold and
   list rule). The per-page scores are pooled into one held-out estimate.
3. speed: pages/s for extract_text on one core over the dev pages, and the
   seconds for two hostile 3 MB pages (deeply nested divs; a 40,000-item link list).

Run: .venv/bin/python bench/extraction.py [evaldata-dir]
"""

from __future__ import annotations

import hashlib
import logging
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import trafilatura

from digest.gather.extract import extract_paragraphs, extract_text

REPO = Path(__file__).resolve().parents[1]
EVALDATA = REPO.parent / "shared" / "evaldata"

# The menu the cross-validation chooses from: (label, keyword arguments of extract_paragraphs).
MENU = [("one reading (fast mode only)", {"precision": False})] + [
    (f"two readings, short<{words}, lists {'kept' if lists else 'trimmed'}",
     {"short_words": words, "protect_lists": lists})
    for words in (15, 30, 60) for lists in (True, False)]


def load_benchmark(evaldata: Path):
    if not (evaldata / "load_article_extraction.py").exists():
        sys.exit(f"no article-extraction benchmark at {evaldata} (expected load_article_extraction.py there)")
    sys.path.insert(0, str(evaldata))
    import load_article_extraction  # noqa: PLC0415 - found only at run time, outside the repo

    return load_article_extraction


def site_fold(url: str | None) -> int:
    """0 or 1 by a hash of the host without www.: a site's pages always share a fold."""
    host = (urlparse(url or "").netloc or "").lower().removeprefix("www.")
    return int(hashlib.sha256(host.encode()).hexdigest(), 16) % 2


def per_page(bench, predictions: dict, truth: dict) -> dict:
    """{page_id: (precision, recall)} by the benchmark's own per-page counts."""
    return {k: (bench._prec(*c), bench._rec(*c))
            for k in truth for c in [bench.page_counts(truth[k], predictions.get(k, ""))]}


def pooled(scores: dict, ids) -> tuple[float, float, float]:
    """Precision and recall averaged over pages, F1 of the averages (the benchmark's score)."""
    ids = list(ids)
    p = sum(scores[i][0] for i in ids) / len(ids)
    r = sum(scores[i][1] for i in ids) / len(ids)
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def row(name: str, p: float, r: float, f1: float, n: int, extra: str = "") -> None:
    print(f"{name:58s} {p:.3f}  {r:.3f}  {f1:.3f}  {n:5d}  {extra}")


def run(name: str, extract: Callable[[str, str], str], pages, truth, bench) -> dict:
    started = time.perf_counter()
    predictions = {page_id: extract(html, url) or "" for page_id, html, url in pages}
    seconds = time.perf_counter() - started
    m = bench.score(predictions, truth)
    row(name, m["precision"], m["recall"], m["f1"], len(pages), f"{len(pages) / seconds:6.1f} pages/s")
    return predictions


def cross_validate(pages, truth, bench) -> None:
    folds = {page_id: site_fold(url) for page_id, _, url in pages}
    table = {}
    for label, options in MENU:
        predictions = {page_id: "\n\n".join(extract_paragraphs(html, url, **options)) for page_id, html, url in pages}
        table[label] = per_page(bench, predictions, truth)
    held_out = {}
    for fold in (0, 1):
        train = [i for i in folds if folds[i] != fold]
        test = [i for i in folds if folds[i] == fold]
        chosen = max(table, key=lambda label: pooled(table[label], train)[2])
        held_out.update({i: table[chosen][i] for i in test})
        p, r, f1 = pooled(table[chosen], test)
        row(f"fold {'AB'[fold]} ({len(test)} pages), settings chosen on fold {'BA'[fold]}", p, r, f1, len(test),
            f"chosen: {chosen}")
    p, r, f1 = pooled(held_out, held_out)
    row("CROSS-VALIDATED held-out estimate (both folds pooled)", p, r, f1, len(held_out))
    print("menu on all dev pages (in-sample, for reference):")
    for label in table:
        row(f"  {label}", *pooled(table[label], table[label]), len(table[label]))


def hostile_pages() -> list[tuple[str, str]]:
    """Two 3 MB pages (gather.max_page_bytes): nesting as deep as the bytes allow, and a huge link list."""
    size = 3_000_000
    level = '<div class="c"><p>Deep text with some words in it, again and again.</p>'
    depth = size // (len(level) + len("</div>"))
    nested = "<html><body>" + level * depth + "</div>" * depth + "</body></html>"
    item = '<li><a href="/x">Link item text here</a> and a little more</li>'
    intro = "<p>" + "An opening paragraph of the article with a few words. " * 20 + "</p>"
    listing = "<html><body><article>" + intro + "<ul>" + item * (size // len(item)) + "</ul></article></body></html>"
    return [(f"deeply nested divs ({depth:,} levels)", nested), (f"{size // len(item):,}-item link list", listing)]


def main() -> None:
    evaldata = Path(sys.argv[1]) if len(sys.argv) > 1 else EVALDATA
    bench = load_benchmark(evaldata)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    ground_truth = bench.load_ground_truth()
    truth = {page_id: item.get("articleBody", "") for page_id, item in ground_truth.items()}
    pages = [(page_id, html, ground_truth[page_id].get("url")) for page_id, html, _ in bench.iter_pages()]
    print(f"trafilatura {trafilatura.__version__}; {len(pages)} pages from {evaldata / 'article_extraction'}")
    print(f"{'system':58s} {'P':>5s}  {'R':>5s}  {'F1':>5s}  {'pages':>5s}")
    print("1. dev-all (TUNED-ON: the extractor was developed looking at these pages)")
    published = bench.load_predictions("trafilatura")
    m = bench.score(published, truth)
    row("trafilatura 2.0.0, published output", m["precision"], m["recall"], m["f1"], len(published))
    run("trafilatura alone (defaults)", lambda html, url: trafilatura.extract(html, url=url), pages, truth, bench)
    run("trafilatura favor_precision, no comments", lambda html, url: trafilatura.extract(
        html, url=url, favor_precision=True, include_comments=False), pages, truth, bench)
    run("trafilatura fast, no comments", lambda html, url: trafilatura.extract(
        html, url=url, fast=True, include_comments=False), pages, truth, bench)
    run("digest extract_text (shipped settings)", extract_text, pages, truth, bench)
    print("2. cross-validated by site: 2 fixed folds, settings chosen on the other fold")
    cross_validate(pages, truth, bench)
    print("3. hostile 3 MB pages: extract_text seconds, characters out, peak RSS of this process")
    for name, html in hostile_pages():
        started = time.perf_counter()
        out = extract_text(html)
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"  {name:40s} {len(html):,} chars in, {seconds:5.2f} s, {len(out):,} chars out, peak {peak} MB")


if __name__ == "__main__":
    main()
