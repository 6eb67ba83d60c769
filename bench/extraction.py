"""Article-extraction quality and speed: trafilatura alone vs digest.gather.extract.extract_text.

Uses the article-extraction benchmark (Zyte/scrapinghub) kept outside the repo in
../shared/evaldata/article_extraction, with that folder's own loader and scoring
(4-word shingles; precision and recall averaged over pages; F1 of the averages).
Nothing from it is copied here. Every system gets the same HTML and page URL.

Run: .venv/bin/python bench/extraction.py [evaldata-dir]
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from digest.gather.extract import extract_text

REPO = Path(__file__).resolve().parents[1]
EVALDATA = REPO.parent / "shared" / "evaldata"


def load_benchmark(evaldata: Path):
    if not (evaldata / "load_article_extraction.py").exists():
        sys.exit(f"no article-extraction benchmark at {evaldata} (expected load_article_extraction.py there)")
    sys.path.insert(0, str(evaldata))
    import load_article_extraction  # noqa: PLC0415 - found only at run time, outside the repo

    return load_article_extraction


def run(name: str, extract: Callable[[str, str], str], pages, truth, scorer) -> None:
    started = time.perf_counter()
    predictions = {page_id: extract(html, url) or "" for page_id, html, url in pages}
    seconds = (time.perf_counter() - started) / len(pages)
    m = scorer(predictions, truth)
    print(f"{name:38s} {m['precision']:.3f}  {m['recall']:.3f}  {m['f1']:.3f}  {m['accuracy']:.3f}"
          f"  {len(pages):5d}  {seconds:.4f}")


def main() -> None:
    evaldata = Path(sys.argv[1]) if len(sys.argv) > 1 else EVALDATA
    bench = load_benchmark(evaldata)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    ground_truth = bench.load_ground_truth()
    truth = {page_id: item.get("articleBody", "") for page_id, item in ground_truth.items()}
    pages = [(page_id, html, ground_truth[page_id].get("url")) for page_id, html, _ in bench.iter_pages()]
    print(f"trafilatura {trafilatura.__version__}; {len(pages)} pages from {evaldata / 'article_extraction'}")
    print(f"{'system':38s} {'P':>5s}  {'R':>5s}  {'F1':>5s}  {'acc':>5s}  {'pages':>5s}  s/page")
    published = bench.load_predictions("trafilatura")
    m = bench.score(published, truth)
    print(f"{'trafilatura 2.0.0, published output':38s} {m['precision']:.3f}  {m['recall']:.3f}  {m['f1']:.3f}"
          f"  {m['accuracy']:.3f}  {len(published):5d}       -")
    run("trafilatura alone (defaults)", lambda html, url: trafilatura.extract(html, url=url), pages, truth, bench.score)
    run("trafilatura fast, no comments", lambda html, url: trafilatura.extract(
        html, url=url, fast=True, include_comments=False), pages, truth, bench.score)
    run("digest extract_text", extract_text, pages, truth, bench.score)


if __name__ == "__main__":
    main()
